/** "1 run", "3 runs"; `many` for nouns that do not just take an s ("2 tries", "4 series"). */
export function plural(count: number, one: string, many = `${one}s`): string {
  return `${count} ${count === 1 ? one : many}`;
}

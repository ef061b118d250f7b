import { describe, expect, it } from "vitest";
import { parseTelegramHtml } from "./html.ts";

function parseError(html: string, strict = true): string {
  try {
    parseTelegramHtml(html, { strict });
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error(`expected ${JSON.stringify(html)} to be rejected`);
}

describe("parseTelegramHtml: what Telegram accepts", () => {
  it("counts entity offsets in UTF-16 code units, so a leading emoji shifts them by two", () => {
    // Same text as the alert card in the shared fixtures: bold "FIRING" at offset 3.
    const parsed = parseTelegramHtml("🔥 <b>FIRING</b>: KubePodCrashLooping (2)");
    expect(parsed.text).toBe("🔥 FIRING: KubePodCrashLooping (2)");
    expect(parsed.entities).toEqual([{ offset: 3, length: 6, type: "bold" }]);
  });

  it("uses UTF-16 rather than code points or bytes for a ZWJ emoji sequence", () => {
    // 👨‍👩‍👧 is 5 code points, 18 UTF-8 bytes and 8 UTF-16 units.
    const parsed = parseTelegramHtml("👨‍👩‍👧 <u>fam</u> <i>é</i>");
    expect(parsed.entities).toEqual([
      { offset: 9, length: 3, type: "underline" },
      { offset: 13, length: 1, type: "italic" },
    ]);
    expect(parsed.text.slice(9, 12)).toBe("fam");
  });

  it("nests entities and lists the outer one first", () => {
    const parsed = parseTelegramHtml("<b>bold <i>both</i></b> <s>gone</s>");
    expect(parsed.text).toBe("bold both gone");
    expect(parsed.entities).toEqual([
      { offset: 0, length: 9, type: "bold" },
      { offset: 5, length: 4, type: "italic" },
      { offset: 10, length: 4, type: "strikethrough" },
    ]);
  });

  it("maps every supported tag alias to its entity type", () => {
    const parsed = parseTelegramHtml(
      "<strong>a</strong><em>b</em><ins>c</ins><strike>d</strike><del>e</del>" +
        '<span class="tg-spoiler">f</span><tg-spoiler>g</tg-spoiler><code>h</code>',
    );
    expect(parsed.text).toBe("abcdefgh");
    expect(parsed.entities.map((e) => e.type)).toEqual([
      "bold", "italic", "underline", "strikethrough", "strikethrough", "spoiler", "spoiler", "code",
    ]);
  });

  it("decodes the four named entities and numeric ones, and keeps the text UTF-16-consistent", () => {
    const parsed = parseTelegramHtml("&lt;b&gt; &amp; &quot;q&quot; &#128293;&#x1F525; <b>x</b>");
    expect(parsed.text).toBe('<b> & "q" 🔥🔥 x');
    expect(parsed.entities).toEqual([{ offset: 15, length: 1, type: "bold" }]);
  });

  it("turns <pre><code class=language-…> into one pre entity with a language", () => {
    const parsed = parseTelegramHtml('<pre><code class="language-python">print(1)</code></pre>');
    expect(parsed.entities).toEqual([{ offset: 0, length: 8, type: "pre", language: "python" }]);
    expect(parseTelegramHtml("<pre>x</pre>").entities).toEqual([{ offset: 0, length: 1, type: "pre" }]);
    // A language on a standalone <code> is dropped, as Telegram documents.
    expect(parseTelegramHtml('<code class="language-js">x</code>').entities).toEqual([
      { offset: 0, length: 1, type: "code" },
    ]);
  });

  it("keeps links Telegram can open (normalised) and silently drops the rest", () => {
    expect(parseTelegramHtml('<a href="https://example.com">site</a>').entities).toEqual([
      { offset: 0, length: 4, type: "text_link", url: "https://example.com/" },
    ]);
    expect(parseTelegramHtml('<a href="https://runbooks.example/a/b?x=1&amp;y=2">rb</a>').entities).toEqual([
      { offset: 0, length: 2, type: "text_link", url: "https://runbooks.example/a/b?x=1&y=2" },
    ]);
    const dropped = parseTelegramHtml('<a href="javascript:alert(1)">x</a>');
    expect(dropped).toEqual({ text: "x", entities: [] });
  });

  it("supports blockquote, expandable blockquote and custom emoji", () => {
    expect(parseTelegramHtml("<blockquote>q</blockquote>").entities).toEqual([
      { offset: 0, length: 1, type: "blockquote" },
    ]);
    expect(parseTelegramHtml("<blockquote expandable>q</blockquote>").entities).toEqual([
      { offset: 0, length: 1, type: "expandable_blockquote" },
    ]);
    expect(parseTelegramHtml('<tg-emoji emoji-id="5368324170671202286">👍</tg-emoji>').entities).toEqual([
      { offset: 0, length: 2, type: "custom_emoji", custom_emoji_id: "5368324170671202286" },
    ]);
  });

  it("accepts upper-case tags, single quotes and the anonymous end tag </>", () => {
    expect(parseTelegramHtml("<B>x</B>").entities).toEqual([{ offset: 0, length: 1, type: "bold" }]);
    expect(parseTelegramHtml("<a href='https://t.me/x'>y</a>").entities).toEqual([
      { offset: 0, length: 1, type: "text_link", url: "https://t.me/x" },
    ]);
    expect(parseTelegramHtml("<i>x</>").entities).toEqual([{ offset: 0, length: 1, type: "italic" }]);
  });

  it("creates no entity for an empty element", () => {
    expect(parseTelegramHtml("<b></b>x")).toEqual({ text: "x", entities: [] });
  });
});

describe("parseTelegramHtml: what Telegram rejects, with its wording", () => {
  it("rejects tags Telegram does not support, with the byte offset of the tag", () => {
    expect(parseError("<div>x</div>")).toBe(`can't parse entities: Unsupported start tag "div" at byte offset 0`);
    // 🔥 is four UTF-8 bytes, so the tag starts at byte 5, not character 2.
    expect(parseError("🔥 <br>")).toBe(`can't parse entities: Unsupported start tag "br" at byte offset 5`);
  });

  it("rejects a bare < the way Telegram does", () => {
    expect(parseError("1 < 2")).toBe(`can't parse entities: Unsupported start tag "" at byte offset 2`);
    expect(parseError("a<b")).toBe("can't parse entities: Unclosed start tag at byte offset 1");
  });

  it("rejects unclosed, mismatched and stray end tags", () => {
    expect(parseError("<b>x")).toBe(`can't parse entities: Can't find end tag corresponding to start tag "b"`);
    expect(parseError("<b><i>x</b></i>")).toBe(
      `can't parse entities: Unmatched end tag at byte offset 7, expected "</i>", found "</b>"`,
    );
    expect(parseError("x</b>")).toBe("can't parse entities: Unexpected end tag at byte offset 1");
  });

  it("rejects malformed attributes", () => {
    expect(parseError("<span>x</span>")).toBe(
      `can't parse entities: Tag "span" must have class "tg-spoiler" at byte offset 0`,
    );
    expect(parseError('<a href="https://x.org" title>x</a>')).toBe(
      `can't parse entities: Expected equal sign in declaration of an attribute of the tag "a" at byte offset 0`,
    );
    expect(parseError("<a href=https://x.org>x</a>")).toBe(
      "can't parse entities: Unexpected end of name token at byte offset 8",
    );
    expect(parseError("<tg-emoji>x</tg-emoji>")).toBe(
      "can't parse entities: Invalid custom emoji identifier specified",
    );
  });

  it("rejects unknown named entities and nested links by default, but can be as lenient as Telegram", () => {
    expect(parseError("a&nbsp;b")).toMatch(/^can't parse entities: Unsupported HTML entity "&nbsp;" at byte offset 1/);
    expect(parseError("R&D")).toMatch(/Unsupported HTML entity "&D"/);
    expect(parseTelegramHtml("a&nbsp;b", { strict: false }).text).toBe("a&nbsp;b");
    // A lone & that starts no entity name is plain text even in strict mode.
    expect(parseTelegramHtml("a & b").text).toBe("a & b");

    const nested = '<a href="https://a.org">x<a href="https://b.org">y</a></a>';
    expect(parseError(nested)).toMatch(/Nested "a" tags are not allowed at byte offset 25/);
    expect(parseTelegramHtml(nested, { strict: false }).entities).toHaveLength(2);
  });
});

/**
 * Challenge texts as plain paragraphs. finX sends its challenge as (sanitized) HTML; it is still shown as text
 * only, never as markup, so nothing a bank or a middlebox puts into it can run or load in the app.
 */

const BLOCK_TAGS = new Set([
  'ADDRESS', 'ARTICLE', 'ASIDE', 'BLOCKQUOTE', 'DD', 'DIV', 'DL', 'DT', 'FIELDSET', 'FIGCAPTION', 'FIGURE',
  'FOOTER', 'FORM', 'H1', 'H2', 'H3', 'H4', 'H5', 'H6', 'HEADER', 'HR', 'LI', 'MAIN', 'NAV', 'OL', 'P', 'PRE',
  'SECTION', 'TABLE', 'TR', 'UL',
]);

/** Elements whose content is never text for the user. */
const SKIPPED_TAGS = new Set(['SCRIPT', 'STYLE', 'TEMPLATE', 'NOSCRIPT', 'IFRAME', 'OBJECT', 'SVG', 'MATH', 'HEAD', 'TITLE']);

const BREAK = '\n';
const PARAGRAPH = '\n\n';

/** Splits text at blank lines into paragraphs; single line breaks stay inside a paragraph. */
export function textToParagraphs(text: string): string[] {
  return text
    .replace(/\r\n?/g, '\n')
    .split(/\n[ \t\u00a0]*\n/)
    .map((paragraph) =>
      paragraph
        .split('\n')
        .map((line) => line.replace(/[ \t\u00a0]+/g, ' ').trim())
        .filter((line) => line.length > 0)
        .join('\n'),
    )
    .filter((paragraph) => paragraph.length > 0);
}

function collect(node: Node, out: string[]): void {
  if (node.nodeType === 3 /* TEXT_NODE */) {
    out.push((node.nodeValue ?? '').replace(/\s+/g, ' '));
    return;
  }
  if (node.nodeType !== 1 /* ELEMENT_NODE */) {
    if (node.nodeType === 9 || node.nodeType === 11) node.childNodes.forEach((child) => collect(child, out));
    return;
  }
  const tag = (node as Element).tagName.toUpperCase();
  if (SKIPPED_TAGS.has(tag)) return;
  if (tag === 'BR') {
    out.push(BREAK);
    return;
  }
  const block = BLOCK_TAGS.has(tag);
  if (block) out.push(PARAGRAPH);
  if (tag === 'LI') out.push('• ');
  if (tag === 'TD' || tag === 'TH') out.push(' ');
  node.childNodes.forEach((child) => collect(child, out));
  if (block) out.push(PARAGRAPH);
}

/** Regex fallback where no DOMParser exists: drops tags, keeps their text, decodes the common entities. */
function stripTags(html: string): string {
  return html
    .replace(/<(script|style|template|noscript)\b[\s\S]*?<\/\1\s*>/gi, '')
    .replace(/<br\s*\/?>/gi, BREAK)
    .replace(/<\/?(p|div|li|ul|ol|h[1-6]|tr|table|section|blockquote)\b[^>]*>/gi, PARAGRAPH)
    .replace(/<[^>]*>/g, '')
    .replace(/&nbsp;/g, ' ')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&');
}

/**
 * The readable text of an HTML challenge as paragraphs. It is parsed into an inert document (DOMParser: no scripts
 * run, no images load) and only text nodes are read; block elements and `<br>` become paragraph and line breaks.
 */
export function htmlToParagraphs(html: string): string[] {
  if (typeof DOMParser === 'undefined') return textToParagraphs(stripTags(html));
  const doc = new DOMParser().parseFromString(html, 'text/html');
  const out: string[] = [];
  collect(doc.body, out);
  const text = out
    .join('')
    // Whitespace around the breaks we inserted is layout, not content.
    .replace(/[ \t]*\n[ \t]*/g, '\n')
    .replace(/\n{3,}/g, PARAGRAPH);
  return textToParagraphs(text);
}

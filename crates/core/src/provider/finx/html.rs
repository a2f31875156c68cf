//! Bank HTML (embedded challenges with `format: HTML`) → plain-text paragraphs.
//!
//! Invariant: nothing that leaves this module can be interpreted as markup. Tags are dropped, the
//! contents of `script`, `style`, `head`, `title`, `template`, `noscript`, `iframe`, `object`
//! and `svg` are dropped whole, comments and `<!…>`/`<?…>` declarations vanish, entities are
//! decoded *after* tags are removed (so `&lt;b&gt;` becomes the literal text `<b>`, which the UI
//! shows as text), and control characters are removed. Block elements (`p`, `div`, `br`, `li`,
//! headings, table rows, …) end a paragraph; list items get a "• " prefix. Whitespace inside a
//! paragraph collapses to single spaces. The parser works on `char`s and never panics.

/// Elements whose whole content is dropped.
const DROPPED: &[&str] = &["script", "style", "head", "title", "template", "noscript", "iframe", "object", "svg"];

/// Elements that start or end a paragraph.
const BLOCKS: &[&str] = &[
    "p",
    "div",
    "br",
    "li",
    "ul",
    "ol",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "tr",
    "table",
    "section",
    "article",
    "header",
    "footer",
    "blockquote",
    "pre",
    "hr",
    "dd",
    "dt",
    "dl",
    "form",
    "fieldset",
    "body",
    "html",
];

/// The paragraphs of an HTML fragment as plain text; empty paragraphs are dropped.
pub fn to_paragraphs(html: &str) -> Vec<String> {
    let chars: Vec<char> = html.chars().collect();
    let mut paragraphs = Vec::new();
    let mut current = String::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c != '<' {
            current.push(c);
            i += 1;
            continue;
        }
        // A comment.
        if starts_with(&chars, i, "<!--") {
            i = find(&chars, i + 4, "-->").map_or(chars.len(), |end| end + 3);
            continue;
        }
        // A declaration or processing instruction.
        if matches!(chars.get(i + 1), Some('!' | '?')) {
            i = find(&chars, i + 1, ">").map_or(chars.len(), |end| end + 1);
            continue;
        }
        let closing = chars.get(i + 1) == Some(&'/');
        let name_start = if closing { i + 2 } else { i + 1 };
        if !chars.get(name_start).is_some_and(char::is_ascii_alphabetic) {
            // Not a tag ("a < b"): keep the character.
            current.push(c);
            i += 1;
            continue;
        }
        let mut name_end = name_start;
        while chars.get(name_end).is_some_and(|c| c.is_ascii_alphanumeric()) {
            name_end += 1;
        }
        let name: String = chars[name_start..name_end].iter().collect::<String>().to_ascii_lowercase();
        let tag_end = tag_end(&chars, name_end).unwrap_or(chars.len());
        i = tag_end;
        if !closing && DROPPED.contains(&name.as_str()) {
            i = find_closing(&chars, i, &name).unwrap_or(chars.len());
            continue;
        }
        if BLOCKS.contains(&name.as_str()) {
            flush(&mut current, &mut paragraphs);
            if name == "li" && !closing {
                current.push_str("• ");
            }
        } else if matches!(name.as_str(), "td" | "th") && !closing {
            current.push(' ');
        }
    }
    flush(&mut current, &mut paragraphs);
    paragraphs
}

/// The paragraphs joined by blank lines.
pub fn to_text(html: &str) -> String {
    to_paragraphs(html).join("\n\n")
}

fn flush(current: &mut String, paragraphs: &mut Vec<String>) {
    let text = collapse(&decode_entities(current));
    current.clear();
    if !text.is_empty() && text != "•" {
        paragraphs.push(text);
    }
}

fn collapse(text: &str) -> String {
    text.split(|c: char| c.is_whitespace() || c == '\u{a0}')
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .filter(|c| !c.is_control())
        .collect()
}

fn starts_with(chars: &[char], at: usize, needle: &str) -> bool {
    (at..).zip(needle.chars()).all(|(idx, n)| chars.get(idx).map(char::to_ascii_lowercase) == Some(n))
}

fn find(chars: &[char], from: usize, needle: &str) -> Option<usize> {
    (from..chars.len()).find(|&at| starts_with(chars, at, needle))
}

/// The index after the `>` closing a tag, skipping quoted attribute values.
fn tag_end(chars: &[char], from: usize) -> Option<usize> {
    let mut quote: Option<char> = None;
    let mut i = from;
    while let Some(&c) = chars.get(i) {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(c),
            (None, '>') => return Some(i + 1),
            _ => {}
        }
        i += 1;
    }
    None
}

/// The index after `</name …>`.
fn find_closing(chars: &[char], from: usize, name: &str) -> Option<usize> {
    let needle = format!("</{name}");
    let at = find(chars, from, &needle)?;
    Some(tag_end(chars, at + needle.chars().count()).unwrap_or(chars.len()))
}

/// Decodes the numeric entities and the named ones German banks use.
fn decode_entities(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let after = &rest[amp + 1..];
        let end = after.find(';').filter(|&e| e > 0 && e <= 10);
        let decoded = end.and_then(|e| entity(&after[..e]));
        match (end, decoded) {
            (Some(e), Some(c)) => {
                out.push(c);
                rest = &after[e + 1..];
            }
            _ => {
                out.push('&');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

fn entity(name: &str) -> Option<char> {
    if let Some(num) = name.strip_prefix('#') {
        let code = match num.strip_prefix(['x', 'X']) {
            Some(hex) => u32::from_str_radix(hex, 16).ok()?,
            None => num.parse::<u32>().ok()?,
        };
        return char::from_u32(code).filter(|c| !c.is_control() || c.is_whitespace());
    }
    Some(match name {
        "amp" => '&',
        "lt" => '<',
        "gt" => '>',
        "quot" => '"',
        "apos" => '\'',
        "nbsp" => ' ',
        "auml" => 'ä',
        "ouml" => 'ö',
        "uuml" => 'ü',
        "Auml" => 'Ä',
        "Ouml" => 'Ö',
        "Uuml" => 'Ü',
        "szlig" => 'ß',
        "euro" => '€',
        "ndash" => '–',
        "mdash" => '—',
        "hellip" => '…',
        "bdquo" => '„',
        "ldquo" => '“',
        "rdquo" => '”',
        "sbquo" => '‚',
        "lsquo" => '‘',
        "rsquo" => '’',
        "bull" => '•',
        "middot" => '·',
        "copy" => '©',
        "reg" => '®',
        "deg" => '°',
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paragraphs_and_entities() {
        let html =
            "<p>Bitte geben Sie die <b>TAN</b> ein.</p><p>Betrag: 12,50&nbsp;&euro;<br>Empf&auml;nger: A &amp; B</p>";
        assert_eq!(to_paragraphs(html), vec!["Bitte geben Sie die TAN ein.", "Betrag: 12,50 €", "Empfänger: A & B"]);
    }

    #[test]
    fn scripts_comments_and_escaped_markup_never_become_markup() {
        let html = "<script>alert(1)</script><!-- x --><style>p{}</style>Hi &lt;img src=x onerror=alert(1)&gt;<img src=x onerror=alert(2)>";
        assert_eq!(to_text(html), "Hi <img src=x onerror=alert(1)>");
        assert_eq!(to_text("a < b and c > d"), "a < b and c > d");
        assert_eq!(to_text("<ul><li>one</li><li>two</li></ul>"), "• one\n\n• two");
        assert_eq!(to_text("<a href='x>y'>link</a> text"), "link text");
        assert_eq!(to_text("unclosed <b"), "unclosed");
        assert_eq!(to_text("<script>never closed"), "");
        assert_eq!(to_text("&#x41;&#66;&bogus;&"), "AB&bogus;&");
    }
}

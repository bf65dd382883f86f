//! What the XML formats share: a streaming walk with bounded depth and event size, and line numbers.

use super::*;

/// A `BufRead` pass-through that notes where the newlines are in what the XML
/// reader consumes, so the byte positions quick-xml reports become line
/// numbers without keeping the text. Offsets are kept only from the start of
/// the current event (the mark); lines before it are just counted.
pub(super) struct LineCounter<R> {
    inner: R,
    first_line: usize,
    consumed: u64,
    mark: u64,
    lines_before_mark: usize,
    newlines_since_mark: Vec<u64>,
    /// Whether the last byte consumed was a newline.
    at_line_start: bool,
}

impl<R: BufRead> LineCounter<R> {
    fn new(inner: R, first_line: usize) -> Self {
        LineCounter {
            inner,
            first_line,
            consumed: 0,
            mark: 0,
            lines_before_mark: 0,
            newlines_since_mark: Vec::new(),
            at_line_start: false,
        }
    }

    /// Called at the start of each event, at byte `position`.
    fn mark(&mut self, position: u64) {
        let passed = self
            .newlines_since_mark
            .partition_point(|&at| at < position);
        self.lines_before_mark += passed;
        self.newlines_since_mark.drain(..passed);
        self.mark = position;
    }

    /// The line of byte `position` (at or after the mark).
    fn line_at(&self, position: u64) -> usize {
        self.first_line
            + self.lines_before_mark
            + self
                .newlines_since_mark
                .partition_point(|&at| at < position)
    }

    /// The line of the last byte consumed, where the end of the file is.
    fn last_line(&self) -> usize {
        self.line_at(self.consumed) - usize::from(self.at_line_start)
    }

    fn note(&mut self, bytes: &[u8]) {
        for i in memchr::memchr_iter(b'\n', bytes) {
            self.newlines_since_mark.push(self.consumed + i as u64);
        }
        if let Some(&last) = bytes.last() {
            self.at_line_start = last == b'\n';
        }
        self.consumed += bytes.len() as u64;
    }
}

impl<R: BufRead> Read for LineCounter<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(out)?;
        self.note(&out[..n]);
        Ok(n)
    }
}

impl<R: BufRead> BufRead for LineCounter<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.consumed.saturating_sub(self.mark) > MAX_XML_EVENT_BYTES {
            return Err(io::Error::other(
                "a single tag or text over 16 MiB: not a coverage report",
            ));
        }
        self.inner.fill_buf()
    }

    fn consume(&mut self, amount: usize) {
        if amount > 0 {
            // The bytes being consumed are still in the inner buffer: the
            // caller just saw them through fill_buf, so this does no I/O.
            if let Ok(available) = self.inner.fill_buf() {
                let seen = amount.min(available.len());
                for i in memchr::memchr_iter(b'\n', &available[..seen]) {
                    self.newlines_since_mark.push(self.consumed + i as u64);
                }
                if let Some(&last) = available[..seen].last() {
                    self.at_line_start = last == b'\n';
                }
            }
            self.consumed += amount as u64;
        }
        self.inner.consume(amount);
    }
}

/// What the XML walk shows a format's parser.
pub(super) enum XmlNode<'a, 'b> {
    Open(&'a BytesStart<'b>),
    Close,
}

/// Streams an XML report whose root element must be `root`, calling `visit`
/// with each element's opening and closing, its depth (root = 0) and local
/// name. Errors from `visit` get the line of the element.
pub(super) fn walk_xml<R: BufRead>(
    reader: R,
    first_line: usize,
    format: Format,
    root: &str,
    mut visit: impl FnMut(XmlNode<'_, '_>, usize, &str) -> Result<(), String>,
) -> Result<(), Failure> {
    let mut xml = Reader::from_reader(LineCounter::new(reader, first_line));
    xml.config_mut().expand_empty_elements = true;
    let mut buf = Vec::new();
    let mut depth = 0usize;
    let mut root_seen = false;
    loop {
        let start = xml.buffer_position();
        xml.get_mut().mark(start);
        buf.clear();
        let event = match xml.read_event_into(&mut buf) {
            Ok(event) => event,
            Err(err) => {
                let line = xml.get_ref().line_at(xml.error_position());
                return Err(Failure::at(line, format!("malformed XML: {err}")));
            }
        };
        let line = xml.get_ref().line_at(start);
        match event {
            Event::Start(element) => {
                let name = element.local_name();
                let name = name.as_ref();
                if depth == 0 {
                    if root_seen {
                        return Err(Failure::at(
                            line,
                            format!("unexpected <{name}> after the end of <{root}>"),
                        ));
                    }
                    if name != root {
                        return Err(Failure::at(
                            line,
                            format!(
                                "expected <{root}> as the root element of a {format} report, found <{name}>"
                            ),
                        ));
                    }
                    root_seen = true;
                }
                if depth >= MAX_XML_DEPTH {
                    return Err(Failure::at(
                        line,
                        format!("elements nested more than {MAX_XML_DEPTH} deep"),
                    ));
                }
                visit(XmlNode::Open(&element), depth, name).map_err(|m| Failure::at(line, m))?;
                depth += 1;
            }
            Event::End(element) => {
                depth = depth.saturating_sub(1);
                visit(XmlNode::Close, depth, element.local_name().as_ref())
                    .map_err(|m| Failure::at(line, m))?;
            }
            Event::Eof if depth > 0 => {
                return Err(Failure::at(
                    xml.get_ref().last_line(),
                    format!("unexpected end of file: <{root}> is not closed (truncated report?)"),
                ));
            }
            Event::Eof if !root_seen => {
                return Err(Failure {
                    line: None,
                    message: format!("no <{root}> element: not a {format} report"),
                });
            }
            Event::Eof => return Ok(()),
            // Declarations, DOCTYPE (never fetched), comments, text.
            _ => {}
        }
    }
}

/// The values of the attributes `names` of `element`, in the same order.
pub(super) fn attributes<'a, const N: usize>(
    element: &'a BytesStart<'_>,
    names: [&str; N],
) -> Result<[Option<Cow<'a, str>>; N], String> {
    let mut found: [Option<Cow<'a, str>>; N] = std::array::from_fn(|_| None);
    for attribute in element.attributes() {
        let attribute = attribute.map_err(|err| {
            format!(
                "malformed attribute in <{}>: {err}",
                element.local_name().as_ref()
            )
        })?;
        let key: &str = attribute.key.as_ref();
        if let Some(i) = names.iter().position(|name| *name == key) {
            let value = attribute
                .normalized_value(XmlVersion::Implicit1_0)
                .map_err(|err| {
                    format!(
                        "malformed attribute {key} in <{}>: {err}",
                        element.local_name().as_ref()
                    )
                })?;
            found[i] = Some(value);
        }
    }
    Ok(found)
}

/// An attribute that must be a whole number when present.
pub(super) fn whole(element: &str, name: &str, value: Option<&str>) -> Result<Option<u64>, String> {
    value
        .map(|value| {
            value.trim().parse().map_err(|_| {
                format!(
                    "<{element} {name}=\"{}\">: expected a whole number",
                    clip(value)
                )
            })
        })
        .transpose()
}

/// An attribute that must be present and a whole number.
pub(super) fn required_whole(
    element: &str,
    name: &str,
    value: Option<&str>,
) -> Result<u64, String> {
    whole(element, name, value)?.ok_or_else(|| format!("<{element}> without its {name} attribute"))
}

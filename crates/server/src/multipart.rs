//! A small `multipart/form-data` reader (RFC 7578) for the console's one upload form (a
//! request's answer with an attachment): the parts' names, file names, content types and
//! bytes. Bodies are bounded before they get here (the admin body limit).

/// One part of a form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    pub name: String,
    pub filename: Option<String>,
    pub content_type: Option<String>,
    pub data: Vec<u8>,
}

/// The boundary of a `multipart/form-data` content type.
pub fn boundary(content_type: &str) -> Option<String> {
    let (mime, params) = content_type.split_once(';')?;
    if !mime.trim().eq_ignore_ascii_case("multipart/form-data") {
        return None;
    }
    params.split(';').find_map(|p| {
        let (k, v) = p.trim().split_once('=')?;
        let v = v.trim().trim_matches('"');
        (k.trim().eq_ignore_ascii_case("boundary") && !v.is_empty() && v.len() <= 70)
            .then(|| v.to_owned())
    })
}

fn find(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    if needle.is_empty() || hay.len() < needle.len() {
        return None;
    }
    (from..=hay.len() - needle.len()).find(|&i| hay[i..].starts_with(needle))
}

/// A `name="value"` parameter of a `Content-Disposition` header.
fn param(header: &str, name: &str) -> Option<String> {
    let key = format!("{name}=\"");
    let at = header
        .match_indices(&key)
        .find(|(i, _)| *i == 0 || matches!(header.as_bytes()[i - 1], b' ' | b';'))?
        .0;
    let rest = &header[at + key.len()..];
    Some(rest[..rest.find('"')?].to_owned())
}

/// The parts of `body`; `Err` names what is malformed.
pub fn parse(content_type: &str, body: &[u8]) -> Result<Vec<Part>, &'static str> {
    let b = boundary(content_type).ok_or("not multipart/form-data with a boundary")?;
    let delim = format!("--{b}").into_bytes();
    let next_delim = format!("\r\n--{b}").into_bytes();
    let mut at = find(body, &delim, 0).ok_or("no boundary in the body")? + delim.len();
    let mut parts = vec![];
    loop {
        if body[at..].starts_with(b"--") {
            return Ok(parts);
        }
        if !body[at..].starts_with(b"\r\n") {
            return Err("malformed boundary line");
        }
        at += 2;
        let head_end = find(body, b"\r\n\r\n", at).ok_or("a part without headers")?;
        let head = std::str::from_utf8(&body[at..head_end]).map_err(|_| "headers not UTF-8")?;
        let data_start = head_end + 4;
        let end = find(body, &next_delim, data_start).ok_or("a part without its end")?;
        let (mut name, mut filename, mut ctype) = (None, None, None);
        for line in head.split("\r\n") {
            let Some((k, v)) = line.split_once(':') else {
                continue;
            };
            if k.trim().eq_ignore_ascii_case("content-disposition") {
                name = param(v, "name");
                filename = param(v, "filename");
            } else if k.trim().eq_ignore_ascii_case("content-type") {
                ctype = Some(v.trim().to_owned());
            }
        }
        parts.push(Part {
            name: name.ok_or("a part without a name")?,
            filename,
            content_type: ctype,
            data: body[data_start..end].to_vec(),
        });
        at = end + next_delim.len();
        if parts.len() > 50 {
            return Err("too many parts");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_fields_and_files() {
        let ct = "multipart/form-data; boundary=----X1";
        let body = b"------X1\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\nabc\r\n------X1\r\nContent-Disposition: form-data; name=\"attachment\"; filename=\"a \\\"b.csv\"\r\nContent-Type: text/csv\r\n\r\nx,y\r\n1,2\r\n------X1--\r\n";
        let p = parse(ct, body).unwrap();
        assert_eq!(p.len(), 2);
        assert_eq!(
            (p[0].name.as_str(), p[0].data.as_slice()),
            ("csrf", &b"abc"[..])
        );
        assert_eq!(p[1].content_type.as_deref(), Some("text/csv"));
        assert_eq!(p[1].data, b"x,y\r\n1,2");
        assert!(parse("text/plain", body).is_err());
        assert!(parse(ct, b"------X1\r\nno headers").is_err());
        assert!(parse(ct, b"").is_err());
    }
}

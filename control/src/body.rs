//! Request bodies, never read past a limit: a declared `Content-Length` over it is refused
//! before reading, and a chunked body is read through a [`BodyLimit`] that stops at the limit,
//! so an oversized body cannot grow the Worker's memory (Wasm linear memory never shrinks).

use crate::error::Error;

/// Refuses a body whose declared `Content-Length` is over `limit`, before any of it is read.
/// A missing or unreadable length is left to [`BodyLimit`].
pub fn check_declared_length(content_length: Option<&str>, limit: usize) -> Result<(), Error> {
    match content_length.and_then(|v| v.trim().parse::<u64>().ok()) {
        Some(n) if n > limit as u64 => Err(Error::PayloadTooLarge { limit }),
        _ => Ok(()),
    }
}

/// A body being read chunk by chunk, refused as soon as it passes its limit.
#[derive(Debug)]
pub struct BodyLimit {
    limit: usize,
    bytes: Vec<u8>,
}

impl BodyLimit {
    pub fn new(limit: usize) -> BodyLimit {
        BodyLimit {
            limit,
            bytes: Vec::new(),
        }
    }

    /// Takes the next chunk; an error means stop reading.
    pub fn push(&mut self, chunk: &[u8]) -> Result<(), Error> {
        if self.bytes.len() + chunk.len() > self.limit {
            return Err(Error::PayloadTooLarge { limit: self.limit });
        }
        self.bytes.extend_from_slice(chunk);
        Ok(())
    }

    /// The body read so far.
    pub fn into_bytes(self) -> Vec<u8> {
        self.bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_declared_length_over_the_limit_is_413_before_reading() {
        assert!(check_declared_length(Some("100"), 100).is_ok());
        assert!(check_declared_length(None, 100).is_ok());
        assert!(check_declared_length(Some("soon"), 100).is_ok());
        let e = check_declared_length(Some("101"), 100).unwrap_err();
        assert_eq!((e.status(), e.code()), (413, "payload_too_large"));
        assert!(e.message().contains("100"));
    }

    #[test]
    fn a_streamed_body_stops_at_the_limit() {
        let mut body = BodyLimit::new(10);
        body.push(b"01234").unwrap();
        body.push(b"56789").unwrap();
        assert_eq!(body.push(b"x").unwrap_err().status(), 413);
        assert_eq!(body.into_bytes(), b"0123456789");
    }
}

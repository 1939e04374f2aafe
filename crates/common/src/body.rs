//! Request bodies, never read past a limit: a declared `Content-Length` over it is refused
//! before reading, and a chunked body is read through a [`BodyLimit`] that stops at the limit,
//! so an oversized body cannot grow the Worker's memory (Wasm linear memory never shrinks).

use std::fmt;

/// A request body longer than its route reads; it was not read past `limit` bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TooLarge {
    /// The most bytes the route reads.
    pub limit: usize,
}

impl fmt::Display for TooLarge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "request body too large: at most {} bytes", self.limit)
    }
}

impl std::error::Error for TooLarge {}

/// Refuses a body whose declared `Content-Length` is over `limit`, before any of it is read.
/// A missing or unreadable length is left to [`BodyLimit`].
#[inline]
pub fn check_declared_length(content_length: Option<&str>, limit: usize) -> Result<(), TooLarge> {
    match content_length.and_then(|v| v.trim().parse::<u64>().ok()) {
        Some(n) if n > limit as u64 => Err(TooLarge { limit }),
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
    /// An empty body that may grow to `limit` bytes.
    #[inline]
    pub fn new(limit: usize) -> BodyLimit {
        BodyLimit {
            limit,
            bytes: Vec::new(),
        }
    }

    /// Takes the next chunk; an error means stop reading.
    #[inline]
    pub fn push(&mut self, chunk: &[u8]) -> Result<(), TooLarge> {
        if self.bytes.len() + chunk.len() > self.limit {
            return Err(TooLarge { limit: self.limit });
        }
        self.bytes.extend_from_slice(chunk);
        Ok(())
    }

    /// The body read so far.
    #[inline]
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
        assert_eq!(
            check_declared_length(Some("101"), 100),
            Err(TooLarge { limit: 100 })
        );
    }

    #[test]
    fn a_streamed_body_stops_at_the_limit() {
        let mut body = BodyLimit::new(10);
        body.push(b"01234").unwrap();
        body.push(b"56789").unwrap();
        assert_eq!(body.push(b"x"), Err(TooLarge { limit: 10 }));
        assert_eq!(body.into_bytes(), b"0123456789");
    }
}

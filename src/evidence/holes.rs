//! Reading around unreadable blocks, for formats that survive a hole.
//!
//! A corrupt E01 chunk or a bad run fails every read that touches it. A reader
//! that streams a file (the change journal) or takes it whole (a hive) would lose
//! everything after, or everything. [`Holes`] re-reads a failing read block by
//! block, serves the unreadable blocks as zeros (which journal and hive parsers
//! skip or report as damage) and keeps each unreadable range with its reason, so
//! the loss is reported, never silent.

use std::io;
use std::sync::{Arc, Mutex};

use super::ReadAt;

/// `inner`, with unreadable `block`-aligned blocks read as zeros and recorded.
pub struct Holes {
    inner: Arc<dyn ReadAt>,
    block: u64,
    /// Unreadable ranges `[start, end)` and the first reason, merged when adjacent.
    lost: Mutex<Vec<(u64, u64, String)>>,
}

impl Holes {
    /// Wraps `inner`; `block` is the unit a failure costs (a sector multiple).
    pub fn new(inner: Arc<dyn ReadAt>, block: u64) -> Self {
        Holes {
            inner,
            block: block.max(1),
            lost: Mutex::new(Vec::new()),
        }
    }

    /// The unreadable ranges met so far, one line each for errors.csv.
    pub fn take_lost(&self) -> Vec<String> {
        let mut lost = self.lost.lock().unwrap_or_else(|p| p.into_inner());
        lost.drain(..)
            .map(|(from, to, why)| format!("bytes {from}..{to} unreadable, read as zeros: {why}"))
            .collect()
    }

    fn record(&self, from: u64, to: u64, why: String) {
        let mut lost = self.lost.lock().unwrap_or_else(|p| p.into_inner());
        match lost.last_mut() {
            Some(last) if last.1 == from => last.1 = to,
            _ => lost.push((from, to, why)),
        }
    }
}

impl ReadAt for Holes {
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize> {
        if let Ok(n) = self.inner.read_at(buf, offset) {
            return Ok(n);
        }
        let end = offset
            .saturating_add(buf.len() as u64)
            .min(self.inner.len());
        let mut at = offset;
        while at < end {
            let piece_end = ((at / self.block + 1) * self.block).min(end);
            let piece = &mut buf[(at - offset) as usize..(piece_end - offset) as usize];
            match self.inner.read_at(piece, at) {
                Ok(0) => break,
                Ok(n) => at += n as u64,
                Err(e) => {
                    piece.fill(0);
                    self.record(at, piece_end, e.to_string());
                    at = piece_end;
                }
            }
        }
        Ok((at - offset) as usize)
    }

    fn len(&self) -> u64 {
        self.inner.len()
    }

    fn unbacked_problem(&self) -> Option<String> {
        self.inner.unbacked_problem()
    }
}

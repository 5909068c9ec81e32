//! A fixed, keyless fingerprint of a state, so the same scope gives the same counts.

use std::hash::{Hash, Hasher};

/// A fixed, keyless hasher: each word is folded in with a 64x64->128-bit multiply (as
/// wyhash does), so fingerprints are the same on every run and machine (of one endianness).
#[derive(Default, Clone, Copy)]
pub(super) struct Fold(pub(super) u64);

const K: u64 = 0x9E37_79B9_7F4A_7C15;

impl Hasher for Fold {
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut b = [0u8; 8];
            b[..chunk.len()].copy_from_slice(chunk);
            self.write_u64(u64::from_le_bytes(b));
        }
        self.write_u64(bytes.len() as u64);
    }
    fn write_u64(&mut self, x: u64) {
        let r = u128::from(self.0 ^ x ^ K).wrapping_mul(u128::from(0x2d35_8dcc_aa6c_78a5u64));
        self.0 = (r as u64) ^ ((r >> 64) as u64);
    }
    fn write_u8(&mut self, x: u8) {
        self.write_u64(x.into())
    }
    fn write_u16(&mut self, x: u16) {
        self.write_u64(x.into())
    }
    fn write_u32(&mut self, x: u32) {
        self.write_u64(x.into())
    }
    fn write_usize(&mut self, x: usize) {
        self.write_u64(x as u64)
    }
    fn write_i64(&mut self, x: i64) {
        self.write_u64(x as u64)
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

pub(super) fn fingerprint(x: &impl Hash) -> u64 {
    let mut h = Fold(0x5151_7cc1_b727_220a);
    x.hash(&mut h);
    h.finish()
}

/// The visited map is keyed by fingerprints, which are hashes already.
#[derive(Default)]
pub(super) struct Identity(u64);
impl Hasher for Identity {
    fn write(&mut self, _: &[u8]) {
        unreachable!("only u64 keys")
    }
    fn write_u64(&mut self, x: u64) {
        self.0 = x;
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

//! A ZIP archive of stored (uncompressed) files: the access package as one download, which
//! every operating system opens without software. Sixty lines instead of a crate: an access
//! package is small text, compression would gain little.
//!
//! Invariants: entries are written in the order given, with their CRC-32 and sizes in the
//! local headers (no data descriptors), a fixed date (1 January 1980: the package's own
//! `data.json` carries when it was made), UTF-8 names (flag bit 11); an archive or file past
//! the 4 GiB of ZIP32 is an error, never a corrupt archive.

use crate::error::{AppError, AppResult};

/// CRC-32 (IEEE 802.3, reflected, as ZIP wants it).
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            let mask = (crc & 1).wrapping_neg();
            crc = (crc >> 1) ^ (0xEDB8_8320 & mask);
        }
    }
    !crc
}

fn u32_of(n: usize) -> AppResult<u32> {
    u32::try_from(n).map_err(|_| AppError::internal(&"the package exceeds 4 GiB"))
}

/// The archive of `files` (name, content).
pub fn stored_zip(files: &[(String, Vec<u8>)]) -> AppResult<Vec<u8>> {
    let mut out: Vec<u8> = vec![];
    let mut central: Vec<u8> = vec![];
    // version 2.0, flags: UTF-8 names, method 0 (stored), time 00:00, date 1980-01-01.
    let common = |h: &mut Vec<u8>, crc: u32, size: u32, name: &[u8]| {
        h.extend_from_slice(&20u16.to_le_bytes());
        h.extend_from_slice(&0x0800u16.to_le_bytes());
        h.extend_from_slice(&0u16.to_le_bytes());
        h.extend_from_slice(&0u16.to_le_bytes());
        h.extend_from_slice(&0x0021u16.to_le_bytes());
        h.extend_from_slice(&crc.to_le_bytes());
        h.extend_from_slice(&size.to_le_bytes());
        h.extend_from_slice(&size.to_le_bytes());
        h.extend_from_slice(&u16::try_from(name.len()).unwrap_or(u16::MAX).to_le_bytes());
        h.extend_from_slice(&0u16.to_le_bytes());
    };
    for (name, data) in files {
        let name = name.as_bytes();
        if name.len() > usize::from(u16::MAX) {
            return Err(AppError::internal(
                &"a file name of the package is too long",
            ));
        }
        let (crc, size, offset) = (crc32(data), u32_of(data.len())?, u32_of(out.len())?);
        out.extend_from_slice(&0x0403_4b50u32.to_le_bytes());
        common(&mut out, crc, size, name);
        out.extend_from_slice(name);
        out.extend_from_slice(data);
        central.extend_from_slice(&0x0201_4b50u32.to_le_bytes());
        central.extend_from_slice(&20u16.to_le_bytes()); // made by
        common(&mut central, crc, size, name);
        // comment length, disk, internal and external attributes, local header offset.
        central.extend_from_slice(&[0u8; 10]);
        central.extend_from_slice(&offset.to_le_bytes());
        central.extend_from_slice(name);
    }
    let count = u16::try_from(files.len())
        .map_err(|_| AppError::internal(&"too many files for one package"))?;
    let (cd_size, cd_offset) = (u32_of(central.len())?, u32_of(out.len())?);
    out.extend_from_slice(&central);
    out.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
    out.extend_from_slice(&[0u8; 4]); // this disk, disk of the central directory
    out.extend_from_slice(&count.to_le_bytes());
    out.extend_from_slice(&count.to_le_bytes());
    out.extend_from_slice(&cd_size.to_le_bytes());
    out.extend_from_slice(&cd_offset.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    u32_of(out.len())?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc_vectors() {
        assert_eq!(crc32(b""), 0);
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(
            crc32(b"The quick brown fox jumps over the lazy dog"),
            0x414F_A339
        );
    }

    #[test]
    fn layout_of_a_small_archive() {
        let z = stored_zip(&[("a.txt".into(), b"hi".to_vec())]).unwrap();
        // local header 30 + name 5 + data 2; central 46 + 5; end 22.
        assert_eq!(z.len(), 37 + 51 + 22);
        assert_eq!(&z[..4], b"PK\x03\x04");
        assert_eq!(&z[30..35], b"a.txt");
        assert_eq!(&z[35..37], b"hi");
        assert_eq!(&z[37..41], b"PK\x01\x02");
        assert_eq!(&z[88..92], b"PK\x05\x06");
    }
}

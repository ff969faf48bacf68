//! Listings in pages, and the batch sizes of the big methods.
//!
//! soapp, soid, killall and killsoid over a big app or user used to be one script each,
//! which kept Redis (or the embedded store) from answering anyone else for as long as it
//! ran, and one reply list that could outgrow an instance's memory. Now each script does a
//! bounded slice and the caller loops; a page is what crosses the WIT.

use crate::error::OpError;
use crate::session::Session;

/// Rows one soapp page reads at most: a few milliseconds of Redis time.
pub const SOAPP_PAGE: usize = 250;
/// A soapp page also ends once its `d` fields reach this many bytes, so pages of big
/// sessions stay small in an instance's memory.
pub const SOAPP_PAGE_BYTES: usize = 2 << 20;
/// The COUNT hint of one soid page's SSCAN (Redis may return somewhat more or fewer).
pub const SOID_PAGE: usize = 200;
/// Sessions one killall or killsoid script deletes at most (as wipe's batches).
pub const KILL_BATCH: usize = 200;

/// A slice of a listing and where the next one starts.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Page {
    pub sessions: Vec<Session>,
    /// The cursor of the next page; `None` after the last.
    pub next: Option<String>,
}

fn invalid_cursor() -> OpError {
    OpError::format("cursor")
}

/// soapp's cursor: the window's lowest score (fixed by the first page), then the score,
/// the position among the members of that score, and the member of the row listed last,
/// separated by spaces (only the member may hold one). A sharded layout's starts with the
/// shard, and is only the shard and the window when the next page starts a shard.
pub(crate) struct SoappCursor {
    pub shard: usize,
    pub min: String,
    pub score: String,
    pub position: String,
    pub member: String,
}

impl SoappCursor {
    /// The first page of a shard.
    pub fn start(shard: usize, min: String) -> Self {
        Self {
            shard,
            min,
            score: String::new(),
            position: String::new(),
            member: String::new(),
        }
    }

    pub fn render(&self, sharded: bool) -> String {
        let rest = format!(
            "{} {} {} {}",
            self.min, self.score, self.position, self.member
        );
        match sharded {
            false => rest,
            true if self.score.is_empty() => format!("{} {}", self.shard, self.min),
            true => format!("{} {rest}", self.shard),
        }
    }

    pub fn parse(cursor: &str, sharded: bool) -> Result<Self, OpError> {
        if sharded {
            let (shard, rest) = cursor.split_once(' ').ok_or_else(invalid_cursor)?;
            let shard = shard.parse().map_err(|_| invalid_cursor())?;
            if !rest.contains(' ') {
                if rest.is_empty() || rest.parse::<f64>().is_err() {
                    return Err(invalid_cursor());
                }
                return Ok(Self::start(shard, rest.to_owned()));
            }
            return Ok(Self {
                shard,
                ..Self::parse(rest, false)?
            });
        }
        let mut parts = cursor.splitn(4, ' ');
        let (Some(min), Some(score), Some(position), Some(member)) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(invalid_cursor());
        };
        let number = |s: &str| !s.is_empty() && s.parse::<f64>().is_ok();
        if !number(min) || !number(score) || position.parse::<u64>().is_err() || member.is_empty() {
            return Err(invalid_cursor());
        }
        Ok(Self {
            shard: 0,
            min: min.to_owned(),
            score: score.to_owned(),
            position: position.to_owned(),
            member: member.to_owned(),
        })
    }
}

/// soid's cursor: SSCAN's, a decimal number ("0" is never passed back: it ends the scan).
pub(crate) fn soid_cursor(cursor: Option<&str>) -> Result<&str, OpError> {
    match cursor {
        None => Ok("0"),
        Some(c) if !c.is_empty() && c.len() <= 20 && c.bytes().all(|b| b.is_ascii_digit()) => Ok(c),
        Some(_) => Err(invalid_cursor()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn soapp_cursors_round_trip_members_with_spaces() {
        let c = SoappCursor {
            shard: 0,
            min: "1795732332".into(),
            score: "1795732932".into(),
            position: "7".into(),
            member: "t:user one".into(),
        };
        let back = SoappCursor::parse(&c.render(false), false).unwrap();
        assert_eq!(back.member, "t:user one");
        assert_eq!(back.score, "1795732932");
        assert_eq!(back.min, "1795732332");
        assert_eq!(back.position, "7");
        let sharded = SoappCursor { shard: 11, ..c };
        let back = SoappCursor::parse(&sharded.render(true), true).unwrap();
        assert_eq!((back.shard, back.member.as_str()), (11, "t:user one"));
        let start = SoappCursor::start(3, "1795732332".into()).render(true);
        assert_eq!(start, "3 1795732332");
        let back = SoappCursor::parse(&start, true).unwrap();
        assert_eq!(
            (back.shard, back.min.as_str(), back.score.as_str()),
            (3, "1795732332", "")
        );
    }

    #[test]
    fn malformed_cursors_are_invalid_format() {
        for bad in ["", "1 2 0", "x 2 0 m", "1 y 0 m", "1 2 z m", "1 2 0 "] {
            assert_eq!(
                SoappCursor::parse(bad, false).err().unwrap().to_string(),
                "Invalid cursor format"
            );
        }
        assert!(soid_cursor(Some("12a")).is_err());
        assert_eq!(soid_cursor(None).unwrap(), "0");
        assert_eq!(soid_cursor(Some("17")).unwrap(), "17");
    }
}

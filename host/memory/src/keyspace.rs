//! The keyspace and its value types: hashes, sets and sorted sets (the only types the
//! commands kept create: no command writes a string).

use crate::numbers::parse_i64;
use crate::reply::{Reply, ServerError, wrong_type};
use indexmap::{IndexMap, IndexSet};
use std::cmp::Ordering;
use std::collections::{BTreeSet, HashMap};
use std::ops::Bound;

/// Redis' `hash-max-listpack-entries`: up to this size a hash keeps insertion order on
/// removal (listpack); beyond it the order is a hash table's anyway.
const LISTPACK_ENTRIES: usize = 128;
/// Redis' `set-max-intset-entries`.
const INTSET_ENTRIES: usize = 512;

pub(crate) type Hash = IndexMap<Vec<u8>, Vec<u8>>;

/// A command that works on the data alone: what `redis.call` reaches.
pub(crate) type DataCommand = fn(&mut Keyspace, &[Vec<u8>]) -> Reply;
/// A command that only reads the data.
pub(crate) type ReadCommand = fn(&Keyspace, &[Vec<u8>]) -> Reply;

/// One key's value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Entry {
    Hash(Hash),
    Set(Set),
    ZSet(ZSet),
}

impl Entry {
    /// The name TYPE prints.
    pub(crate) fn type_name(&self) -> &'static str {
        match self {
            Entry::Hash(_) => "hash",
            Entry::Set(_) => "set",
            Entry::ZSet(_) => "zset",
        }
    }

    fn is_empty(&self) -> bool {
        match self {
            Entry::Hash(h) => h.is_empty(),
            Entry::Set(s) => s.members.is_empty(),
            Entry::ZSet(z) => z.is_empty(),
        }
    }
}

/// Removes a hash field the way Redis orders what is left.
pub(crate) fn hash_remove(h: &mut Hash, field: &[u8]) -> bool {
    if h.len() <= LISTPACK_ENTRIES {
        h.shift_remove(field).is_some()
    } else {
        h.swap_remove(field).is_some()
    }
}

/// A set. While every member is an integer (and there are at most 512), Redis keeps an
/// intset, which SMEMBERS lists in numeric order; otherwise this keeps insertion order
/// (Redis 7.0's hash table order is random).
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct Set {
    pub(crate) members: IndexSet<Vec<u8>>,
    pub(crate) intset: bool,
}

impl Set {
    pub(crate) fn new() -> Self {
        Set {
            members: IndexSet::new(),
            intset: true,
        }
    }

    pub(crate) fn insert(&mut self, member: &[u8]) -> bool {
        if self.members.contains(member) {
            return false;
        }
        if self.intset && parse_i64(member).is_none() {
            self.intset = false;
        }
        self.members.insert(member.to_vec());
        if self.members.len() > INTSET_ENTRIES {
            self.intset = false;
        }
        true
    }

    pub(crate) fn remove(&mut self, member: &[u8]) -> bool {
        self.members.swap_remove(member)
    }

    /// The members in the order SMEMBERS lists them.
    pub(crate) fn listed(&self) -> Vec<&Vec<u8>> {
        let mut out: Vec<&Vec<u8>> = self.members.iter().collect();
        if self.intset {
            out.sort_by_key(|m| parse_i64(m).unwrap_or(0));
        }
        out
    }
}

/// A score ordered like Redis' skiplist: by value, `-0 == 0`; never NaN.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Score(pub f64);

impl PartialEq for Score {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Score {}
impl PartialOrd for Score {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Score {
    fn cmp(&self, other: &Self) -> Ordering {
        self.0.partial_cmp(&other.0).unwrap_or(Ordering::Equal)
    }
}

/// A score range: min and max, each inclusive or exclusive.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ScoreRange {
    pub min: f64,
    pub min_ex: bool,
    pub max: f64,
    pub max_ex: bool,
}

impl ScoreRange {
    fn above_min(&self, s: f64) -> bool {
        if self.min_ex {
            s > self.min
        } else {
            s >= self.min
        }
    }
    fn below_max(&self, s: f64) -> bool {
        if self.max_ex {
            s < self.max
        } else {
            s <= self.max
        }
    }
}

/// A sorted set: member → score, and (score, member) in Redis' order.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct ZSet {
    scores: HashMap<Vec<u8>, f64>,
    order: BTreeSet<(Score, Vec<u8>)>,
}

impl ZSet {
    pub(crate) fn len(&self) -> usize {
        self.scores.len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.scores.is_empty()
    }

    pub(crate) fn score(&self, member: &[u8]) -> Option<f64> {
        self.scores.get(member).copied()
    }

    /// Sets a member's score; returns whether the member is new. A score of -0 is kept as
    /// 0, as Redis' listpack encoding (every small sorted set) does.
    pub(crate) fn insert(&mut self, member: &[u8], score: f64) -> bool {
        let score = if score == 0.0 { 0.0 } else { score };
        match self.scores.get_mut(member) {
            Some(old) => {
                if Score(*old) != Score(score) {
                    self.order.remove(&(Score(*old), member.to_vec()));
                    self.order.insert((Score(score), member.to_vec()));
                }
                *old = score;
                false
            }
            None => {
                self.scores.insert(member.to_vec(), score);
                self.order.insert((Score(score), member.to_vec()));
                true
            }
        }
    }

    pub(crate) fn remove(&mut self, member: &[u8]) -> bool {
        match self.scores.remove(member) {
            Some(score) => {
                self.order.remove(&(Score(score), member.to_vec()));
                true
            }
            None => false,
        }
    }

    /// Every (member, score), lowest first.
    pub(crate) fn iter(&self) -> impl DoubleEndedIterator<Item = (&[u8], f64)> {
        self.order.iter().map(|(s, m)| (m.as_slice(), s.0))
    }

    /// The members in `range`, lowest first or (`rev`) highest first.
    pub(crate) fn range(
        &self,
        range: ScoreRange,
        rev: bool,
    ) -> Box<dyn Iterator<Item = (&[u8], f64)> + '_> {
        fn item((s, m): &(Score, Vec<u8>)) -> (&[u8], f64) {
            (m.as_slice(), s.0)
        }
        if rev {
            let upper = if range.max == f64::INFINITY && !range.max_ex {
                Bound::Unbounded
            } else if range.max_ex {
                Bound::Excluded((Score(range.max), Vec::new()))
            } else {
                Bound::Excluded((Score(range.max.next_up()), Vec::new()))
            };
            Box::new(
                self.order
                    .range((Bound::Unbounded, upper))
                    .rev()
                    .take_while(move |(s, _)| range.above_min(s.0))
                    .filter(move |(s, _)| range.below_max(s.0))
                    .map(item),
            )
        } else {
            let lower = if range.min_ex {
                if range.min == f64::INFINITY {
                    return Box::new(std::iter::empty());
                }
                Bound::Included((Score(range.min.next_up()), Vec::new()))
            } else {
                Bound::Included((Score(range.min), Vec::new()))
            };
            Box::new(
                self.order
                    .range((lower, Bound::Unbounded))
                    .take_while(move |(s, _)| range.below_max(s.0))
                    .filter(move |(s, _)| range.above_min(s.0))
                    .map(item),
            )
        }
    }
}

/// The database: every key and its value. Keys never expire.
#[derive(Debug, Default)]
pub(crate) struct Keyspace {
    map: HashMap<Vec<u8>, Entry>,
    /// The write commands applied since the last `take_changes`, kept only for a journal.
    changes: Option<Vec<Vec<Vec<u8>>>>,
}

/// Gets a typed value out of an entry, or WRONGTYPE.
macro_rules! typed {
    ($name:ident, $variant:ident, $t:ty) => {
        pub(crate) fn $name(&self, key: &[u8]) -> Result<Option<&$t>, ServerError> {
            match self.map.get(key) {
                None => Ok(None),
                Some(Entry::$variant(v)) => Ok(Some(v)),
                Some(_) => Err(wrong_type()),
            }
        }
    };
    (mut $name:ident, $variant:ident, $t:ty) => {
        pub(crate) fn $name(&mut self, key: &[u8]) -> Result<Option<&mut $t>, ServerError> {
            match self.map.get_mut(key) {
                None => Ok(None),
                Some(Entry::$variant(v)) => Ok(Some(v)),
                Some(_) => Err(wrong_type()),
            }
        }
    };
}

impl Keyspace {
    typed!(hash, Hash, Hash);
    typed!(mut hash_mut, Hash, Hash);
    typed!(set, Set, Set);
    typed!(mut set_mut, Set, Set);
    typed!(zset, ZSet, ZSet);
    typed!(mut zset_mut, ZSet, ZSet);

    pub(crate) fn get(&self, key: &[u8]) -> Option<&Entry> {
        self.map.get(key)
    }

    pub(crate) fn contains(&self, key: &[u8]) -> bool {
        self.map.contains_key(key)
    }

    pub(crate) fn keys(&self) -> impl Iterator<Item = &Vec<u8>> {
        self.map.keys()
    }

    pub(crate) fn entries(&self) -> impl Iterator<Item = (&Vec<u8>, &Entry)> {
        self.map.iter()
    }

    pub(crate) fn insert(&mut self, key: &[u8], entry: Entry) {
        self.map.insert(key.to_vec(), entry);
    }

    pub(crate) fn remove(&mut self, key: &[u8]) -> bool {
        self.map.remove(key).is_some()
    }

    /// Removes `key` and hands back its value.
    pub(crate) fn take(&mut self, key: &[u8]) -> Option<Entry> {
        self.map.remove(key)
    }

    /// The value at `key` of the type `make` creates, created when missing; WRONGTYPE when
    /// the key holds another type.
    pub(crate) fn get_or_create(
        &mut self,
        key: &[u8],
        make: fn() -> Entry,
    ) -> Result<&mut Entry, ServerError> {
        let entry = self.map.entry(key.to_vec()).or_insert_with(make);
        if std::mem::discriminant(entry) != std::mem::discriminant(&make()) {
            return Err(wrong_type());
        }
        Ok(entry)
    }

    /// From now on, keep every write command applied, for `take_changes`.
    pub(crate) fn record_changes(&mut self) {
        self.changes.get_or_insert_with(Vec::new);
    }

    /// Notes a write command that was applied (a no-op unless recording).
    pub(crate) fn note_change(&mut self, command: &[Vec<u8>]) {
        if let Some(changes) = &mut self.changes {
            changes.push(command.to_vec());
        }
    }

    /// The write commands applied since the last call, oldest first.
    pub(crate) fn take_changes(&mut self) -> Vec<Vec<Vec<u8>>> {
        self.changes
            .as_mut()
            .map(std::mem::take)
            .unwrap_or_default()
    }

    /// Deletes `key` if its collection became empty (Redis never keeps empty ones).
    pub(crate) fn drop_if_empty(&mut self, key: &[u8]) {
        if self.map.get(key).is_some_and(Entry::is_empty) {
            self.map.remove(key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn members<'a>(it: impl Iterator<Item = (&'a [u8], f64)>) -> Vec<String> {
        it.map(|(m, s)| format!("{}={s}", String::from_utf8_lossy(m)))
            .collect()
    }

    #[test]
    fn zset_orders_by_score_then_member() {
        let mut z = ZSet::default();
        assert!(z.insert(b"b", 1.0));
        assert!(z.insert(b"a", 1.0));
        assert!(z.insert(b"c", 0.5));
        assert!(!z.insert(b"c", 2.0));
        let all: Vec<_> = z.iter().map(|(m, _)| m.to_vec()).collect();
        assert_eq!(all, vec![b"a".to_vec(), b"b".to_vec(), b"c".to_vec()]);
        assert!(z.remove(b"a"));
        assert!(!z.remove(b"a"));
        assert_eq!(z.len(), 2);
    }

    #[test]
    fn zset_ranges_respect_exclusive_bounds() {
        let mut z = ZSet::default();
        for (m, s) in [
            ("a", 1.0),
            ("b", 2.0),
            ("c", 2.0),
            ("d", 3.0),
            ("i", f64::INFINITY),
        ] {
            z.insert(m.as_bytes(), s);
        }
        let r = |min, min_ex, max, max_ex| ScoreRange {
            min,
            min_ex,
            max,
            max_ex,
        };
        assert_eq!(members(z.range(r(2.0, true, 3.0, false), false)), ["d=3"]);
        assert_eq!(
            members(z.range(r(1.0, false, 2.0, false), true)),
            ["c=2", "b=2", "a=1"]
        );
        assert_eq!(
            members(z.range(r(f64::NEG_INFINITY, false, f64::INFINITY, false), true)).len(),
            5
        );
        assert_eq!(
            members(z.range(r(f64::INFINITY, true, f64::INFINITY, false), false)).len(),
            0
        );
        assert_eq!(members(z.range(r(3.0, false, 1.0, false), false)).len(), 0);
        assert_eq!(members(z.range(r(3.0, false, 1.0, false), true)).len(), 0);
        assert_eq!(members(z.range(r(2.0, false, 2.0, true), false)).len(), 0);
    }

    #[test]
    fn sets_track_intset_order() {
        let mut s = Set::new();
        for m in ["10", "-5", "3"] {
            s.insert(m.as_bytes());
        }
        let listed: Vec<&[u8]> = s.listed().into_iter().map(Vec::as_slice).collect();
        assert_eq!(listed, [&b"-5"[..], b"3", b"10"]);
        s.insert(b"x");
        assert!(!s.intset);
        s.remove(b"x");
        assert!(!s.intset, "a set never goes back to an intset");
    }

    #[test]
    fn wrong_types_and_empty_deletion() {
        let mut ks = Keyspace::default();
        ks.insert(b"s", Entry::Set(Set::new()));
        assert!(ks.hash(b"s").is_err());
        assert!(ks.get_or_create(b"s", || Entry::Hash(Hash::new())).is_err());
        assert!(ks.contains(b"s"));
        ks.get_or_create(b"h", || Entry::Hash(Hash::new())).ok();
        ks.drop_if_empty(b"h");
        assert!(!ks.contains(b"h"));
    }
}

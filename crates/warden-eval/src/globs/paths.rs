//! The directories and file names of a change's paths, each kept once (in a change of
//! more than [`SHARED_FROM`] files).
//!
//! Matching globs of a common shape asks of a path its ancestors and its file name (see
//! [`super::shape`]). A large change repeats both: 20,000 paths of the peers' L workload
//! have 18,499 distinct directories (ancestors included) and 6,860 distinct names. The
//! index numbers them once, when the input is read: it depends on the change only, not
//! on the policy (as the projections Cedar's users compute for it: every directory, every
//! file name), so an evaluation matches each directory and each name against the
//! policy's tables once and a file costs a walk down the few patterns its directory
//! and its name were found to concern, with no hashing. A large change's index also
//! keeps its directories and names by their text, with the first file of each
//! ([`Lookup`]), so that the first match of a policy's pattern of a common shape is
//! one look-up of the pattern. A change of a few files repeats
//! little: finding a directory in a map cost more than the look-ups in the policy's
//! tables that numbering each occurrence afresh adds, so it is not shared.

use std::hash::BuildHasher;

use foldhash::fast::FixedState;
use hashbrown::HashTable;
use warden_change::model::File;

use super::{NO_FILE, shape};

/// Up to this many files, directories and names are not shared (see
/// [`PathIndex::of_paths`]).
const SHARED_FROM: usize = 64;

/// No directory: a path without a `/`.
pub(super) const NO_DIR: u32 = u32::MAX;

/// The distinct directories and file names of a change's paths (and previous paths),
/// and which ones each file has. Built by [`PathIndex::new`]; it describes the files it
/// was built from, which [`PathIndex::describes`] checks cheaply.
#[derive(Debug, Clone, Default)]
pub struct PathIndex {
    /// The segments of the directories and the file names, one after the other.
    text: String,
    /// Every directory, each after its parent.
    pub(super) dirs: Vec<Dir>,
    /// Every file name: its place in `text`.
    names: Vec<(usize, usize)>,
    /// Per file: its path's and its previous path's directory and name.
    pub(crate) files: Vec<(Loc, Option<Loc>)>,
    /// The bytes of every path and previous path, to check the index is of these files.
    bytes: usize,
    /// In a change of more than [`SHARED_FROM`] files, the directories and names by
    /// their text and the first path of each.
    pub(super) lookup: Option<Lookup>,
}

/// The directories and names of a large change by their text, and the first file whose
/// path (not previous path) is below each directory, has each name or extension: with
/// them an evaluation answers `any` of a glob of a common shape by looking up the
/// policy's few patterns instead of each of the change's directories and names (see
/// [`super::PathMatcher::indexed_first_matches`]). They depend on the change only.
#[derive(Debug, Clone, Default)]
pub(super) struct Lookup {
    /// Directory ids, by parent and last segment.
    dirs: HashTable<u32>,
    /// Name ids, by name.
    names: HashTable<u32>,
    /// Per directory, the first file at any depth below it.
    pub below: Vec<u32>,
    /// Per name, the first file with it.
    pub named: Vec<u32>,
    /// Per extension (a name's text from its last `.`), the first file with it.
    pub extensions: hashbrown::HashMap<Box<str>, u32, FixedState>,
    /// Per directory, a range of `in_files`: the files directly in it, ascending.
    within: Vec<(u32, u32)>,
    in_files: Vec<u32>,
}

impl Lookup {
    /// The files directly in directory `dir`, ascending.
    pub fn files_in(&self, dir: u32) -> &[u32] {
        let (start, end) = self.within.get(dir as usize).copied().unwrap_or_default();
        self.in_files
            .get(start as usize..end as usize)
            .unwrap_or_default()
    }
}

/// A directory: its parent ([`NO_DIR`] at the top) and its last segment.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Dir {
    pub parent: u32,
    start: usize,
    end: usize,
}

/// A path: its directory ([`NO_DIR`] without a `/`) and its file name.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Loc {
    pub dir: u32,
    pub name: u32,
}

fn dir_hash(parent: u32, segment: &str) -> u64 {
    FixedState::default().hash_one((parent, segment))
}

fn name_hash(name: &str) -> u64 {
    FixedState::default().hash_one(name)
}

impl PathIndex {
    /// The index of the paths and previous paths of `files`.
    pub fn new(files: &[File]) -> PathIndex {
        PathIndex::of_paths(
            files
                .iter()
                .map(|file| (file.path.as_str(), file.previous_path.as_deref())),
        )
    }

    /// The index of paths, each with its previous path if any.
    pub(crate) fn of_paths<'p>(
        paths: impl ExactSizeIterator<Item = (&'p str, Option<&'p str>)>,
    ) -> PathIndex {
        let count = paths.len();
        // A small change repeats few directories: numbering each occurrence afresh costs
        // less than finding it in a map, and the look-ups it adds at evaluation are few.
        let share = count > SHARED_FROM;
        // Sized for a change whose paths share few directories and names: growing the
        // tables rehashes every key, a third of the cost.
        let mut index = PathIndex {
            dirs: Vec::with_capacity(count),
            names: Vec::with_capacity(count),
            files: Vec::with_capacity(count),
            text: String::with_capacity(count.saturating_mul(16)),
            bytes: 0,
            lookup: share.then(|| Lookup {
                dirs: HashTable::with_capacity(count),
                names: HashTable::with_capacity(count),
                ..Lookup::default()
            }),
        };
        let locate = |index: &mut PathIndex, path: &'p str| {
            index.bytes += path.len();
            let (parent, name) = shape::split(path);
            let dir = match parent {
                None => NO_DIR,
                Some(parent) => index.dir(parent),
            };
            Loc {
                dir,
                name: index.name_id(name),
            }
        };
        for (path, previous) in paths {
            let path = locate(&mut index, path);
            let previous = previous.map(|previous| locate(&mut index, previous));
            index.files.push((path, previous));
        }
        index.note_firsts();
        index
    }

    /// The id of directory `dir`, added with its missing ancestors: walked down from
    /// the top one segment at a time (cheaper than a look-up of the whole text, as
    /// most directories of a change are new: 11,056 parents of 20,000 paths at the
    /// peers' L), so a deep path costs its length, not its length times its depth.
    /// In a small change, each segment is numbered afresh.
    fn dir(&mut self, dir: &str) -> u32 {
        let mut parent = NO_DIR;
        let mut rest = Some(dir);
        // Segments are short: a plain loop finds each `/` sooner than a searcher.
        while let Some(at) = rest {
            let (segment, after) = match at.bytes().position(|b| b == b'/') {
                Some(slash) => (at.get(..slash).unwrap_or_default(), at.get(slash + 1..)),
                None => (at, None),
            };
            rest = after;
            parent = match self.dir_id(parent, segment) {
                Some(id) => id,
                None => self.push_dir(parent, segment),
            };
        }
        parent
    }

    /// The id of directory `segment` below `parent`, if there is one (never in a small
    /// change).
    fn dir_id(&self, parent: u32, segment: &str) -> Option<u32> {
        let lookup = self.lookup.as_ref()?;
        lookup
            .dirs
            .find(dir_hash(parent, segment), |&id| {
                self.dirs
                    .get(id as usize)
                    .is_some_and(|dir| dir.parent == parent && self.segment(dir) == segment)
            })
            .copied()
    }

    /// The id of the directory `dir` (a path without its file name), if some path is in
    /// it or below it; `None` in a small change.
    pub(super) fn find_dir(&self, dir: &str) -> Option<u32> {
        dir.split('/')
            .try_fold(NO_DIR, |parent, segment| self.dir_id(parent, segment))
    }

    /// The id of file name `name`, if some path has it; `None` in a small change.
    pub(super) fn find_name(&self, name: &str) -> Option<u32> {
        let lookup = self.lookup.as_ref()?;
        lookup
            .names
            .find(name_hash(name), |&id| self.name(id) == name)
            .copied()
    }

    /// The id of file name `name`, added if new (always in a small change).
    fn name_id(&mut self, name: &str) -> u32 {
        if let Some(id) = self.find_name(name) {
            return id;
        }
        let id = self.push_name(name);
        if let Some(lookup) = &mut self.lookup {
            let (names, text) = (&self.names, &self.text);
            let text_of = |id: &u32| {
                names
                    .get(*id as usize)
                    .and_then(|&(start, end)| text.get(start..end))
                    .unwrap_or_default()
            };
            lookup
                .names
                .insert_unique(name_hash(name), id, |id| name_hash(text_of(id)));
        }
        id
    }

    /// In a large change, the first file below each directory, with each name and with
    /// each extension, and the files directly in each directory (paths only).
    fn note_firsts(&mut self) {
        let Some(mut lookup) = self.lookup.take() else {
            return;
        };
        let mut below = vec![NO_FILE; self.dirs.len()];
        let mut named = vec![NO_FILE; self.names.len()];
        let mut counts = vec![0u32; self.dirs.len()];
        for (file, (place, _)) in self.files.iter().enumerate() {
            let file = file as u32;
            if let Some(slot) = named.get_mut(place.name as usize) {
                *slot = (*slot).min(file);
            }
            if let Some(slot) = below.get_mut(place.dir as usize) {
                *slot = (*slot).min(file);
            }
            if let Some(count) = counts.get_mut(place.dir as usize) {
                *count += 1;
            }
        }
        // Each directory comes after its parent: its subtree's first file is final
        // before it is passed up.
        for (dir, node) in self.dirs.iter().enumerate().rev() {
            let file = below.get(dir).copied().unwrap_or(NO_FILE);
            if let Some(parent) = below.get_mut(node.parent as usize) {
                *parent = (*parent).min(file);
            }
        }
        for (name, &file) in named.iter().enumerate() {
            let text = self.name(name as u32);
            if file == NO_FILE {
                continue;
            }
            if let Some(dot) = shape::last(text, b'.') {
                let extension = text.get(dot..).unwrap_or_default();
                match lookup.extensions.get_mut(extension) {
                    Some(first) => *first = (*first).min(file),
                    None => {
                        lookup.extensions.insert(extension.into(), file);
                    }
                }
            }
        }
        let mut start = 0u32;
        lookup.within = counts
            .iter()
            .map(|&count| {
                let range = (start, start + count);
                start += count;
                range
            })
            .collect();
        let mut next: Vec<u32> = lookup.within.iter().map(|&(start, _)| start).collect();
        lookup.in_files = vec![0; start as usize];
        for (file, (place, _)) in self.files.iter().enumerate() {
            if let Some(at) = next.get_mut(place.dir as usize)
                && let Some(slot) = lookup.in_files.get_mut(*at as usize)
            {
                *slot = file as u32;
                *at += 1;
            }
        }
        lookup.below = below;
        lookup.named = named;
        self.lookup = Some(lookup);
    }

    /// Whether this is the index of `files`: as many, with paths as long. (An index is
    /// built when a change is read and evaluated with it; a change edited in between
    /// would not match its index, and is indexed again.)
    pub fn describes(&self, files: &[File]) -> bool {
        files.len() == self.files.len()
            && files
                .iter()
                .map(|f| f.path.len() + f.previous_path.as_ref().map_or(0, String::len))
                .sum::<usize>()
                == self.bytes
    }

    /// A new directory: `segment` below `parent`.
    fn push_dir(&mut self, parent: u32, segment: &str) -> u32 {
        let (start, end) = self.push_text(segment);
        let id = self.dirs.len() as u32;
        self.dirs.push(Dir { parent, start, end });
        if let Some(lookup) = &mut self.lookup {
            let (dirs, text) = (&self.dirs, &self.text);
            let hash_of = |id: &u32| match dirs.get(*id as usize) {
                Some(dir) => dir_hash(dir.parent, text.get(dir.start..dir.end).unwrap_or_default()),
                None => 0,
            };
            lookup
                .dirs
                .insert_unique(dir_hash(parent, segment), id, hash_of);
        }
        id
    }

    /// A new file name.
    fn push_name(&mut self, name: &str) -> u32 {
        let id = self.names.len() as u32;
        let text = self.push_text(name);
        self.names.push(text);
        id
    }

    fn push_text(&mut self, text: &str) -> (usize, usize) {
        let start = self.text.len();
        self.text.push_str(text);
        (start, self.text.len())
    }

    fn slice(&self, (start, end): (usize, usize)) -> &str {
        self.text.get(start..end).unwrap_or_default()
    }

    /// A directory's last segment.
    pub(super) fn segment(&self, dir: &Dir) -> &str {
        self.slice((dir.start, dir.end))
    }

    /// A file name.
    pub(super) fn name(&self, name: u32) -> &str {
        self.names
            .get(name as usize)
            .map_or("", |&place| self.slice(place))
    }

    /// How many distinct file names there are.
    pub(super) fn names(&self) -> usize {
        self.names.len()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn index(paths: &[(&str, Option<&str>)]) -> PathIndex {
        PathIndex::of_paths(paths.iter().copied())
    }

    /// The directory of a place, as a path, read back through the parents.
    fn dir_path(index: &PathIndex, mut dir: u32) -> Option<String> {
        let mut segments = Vec::new();
        while dir != NO_DIR {
            let node = index.dirs.get(dir as usize)?;
            segments.push(index.segment(node));
            dir = node.parent;
        }
        segments.reverse();
        Some(segments.join("/"))
    }

    const PATHS: [(&str, Option<&str>); 5] = [
        ("a/b/c.rs", None),
        ("a/b/d.rs", Some("a/c.rs")),
        ("c.rs", None),
        ("/abs/x", None),
        ("a//c.rs", None),
    ];

    #[test]
    fn a_large_change_keeps_each_directory_and_name_once() {
        let paths = PATHS.repeat(SHARED_FROM / PATHS.len() + 1);
        let index = index(&paths);
        // a, a/b, "", /abs, a/ — each ancestor once.
        assert_eq!(index.dirs.len(), 5);
        assert_eq!(index.names(), 3);
        reads_back(&paths, &index);
    }

    #[test]
    fn a_small_change_numbers_each_occurrence() {
        let index = index(&PATHS);
        // a, a/b twice; a; "", /abs; a, a/.
        assert_eq!(index.dirs.len(), 9);
        assert_eq!(index.names(), 6);
        reads_back(&PATHS, &index);
    }

    /// Each place reads back as its path, each directory after its parent.
    fn reads_back(paths: &[(&str, Option<&str>)], index: &PathIndex) {
        for (dir, node) in index.dirs.iter().enumerate() {
            assert!(node.parent == NO_DIR || (node.parent as usize) < dir);
        }
        for ((path, previous), (place, previous_place)) in paths.iter().zip(&index.files) {
            for (path, place) in std::iter::once((*path, Some(*place)))
                .chain(previous.map(|previous| (previous, *previous_place)))
            {
                let place = place.unwrap();
                let (dir, name) = shape::split(path);
                let read = (place.dir != NO_DIR).then(|| dir_path(index, place.dir).unwrap());
                assert_eq!(read.as_deref(), dir, "{path}");
                assert_eq!(index.name(place.name), name, "{path}");
            }
        }
    }

    #[test]
    fn a_deep_path_is_indexed_without_recursion() {
        let deep = "d/".repeat(200_000) + "x";
        let index = index(&[(&deep, None)]);
        assert_eq!(index.dirs.len(), 200_000);
    }

    #[test]
    fn an_index_describes_only_files_like_its_own() {
        let file = |path: &str| File {
            path: path.into(),
            previous_path: None,
            status: warden_change::model::FileStatus::Added,
            additions: 0,
            deletions: 0,
            binary: false,
            generated: false,
            owners: Vec::new(),
            services: Vec::new(),
            patch: None,
        };
        let files = [file("a/b"), file("c")];
        let index = PathIndex::new(&files);
        assert!(index.describes(&files));
        assert!(!index.describes(&files[..1]));
        assert!(!index.describes(&[file("a/b"), file("cd")]));
    }
}

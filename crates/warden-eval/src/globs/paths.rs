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
//! and its name were found to concern, with no hashing. A change of a few files repeats
//! little: finding a directory in a map cost more than the look-ups in the policy's
//! tables that numbering each occurrence afresh adds, so it is not shared.

use std::collections::HashMap;
use std::collections::hash_map::Entry;

use warden_change::model::File;

use super::shape;

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

type Ids<'p> = HashMap<&'p str, u32, foldhash::fast::FixedState>;
/// Directories by parent and last segment.
type Below<'p> = HashMap<(u32, &'p str), u32, foldhash::fast::FixedState>;

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
        // maps rehashes every key, a third of the cost.
        let mut index = PathIndex {
            dirs: Vec::with_capacity(count),
            names: Vec::with_capacity(count),
            files: Vec::with_capacity(count),
            text: String::with_capacity(count.saturating_mul(16)),
            bytes: 0,
        };
        let mut names: Option<Ids<'p>> =
            share.then(|| Ids::with_capacity_and_hasher(count, Default::default()));
        let mut below: Option<Below<'p>> =
            share.then(|| Below::with_capacity_and_hasher(count, Default::default()));
        let mut locate = |index: &mut PathIndex, path: &'p str| {
            index.bytes += path.len();
            let (parent, name) = shape::split(path);
            let dir = match parent {
                None => NO_DIR,
                Some(parent) => index.dir(below.as_mut(), parent),
            };
            // The maps borrow the paths for as long as the index is built.
            let name = match &mut names {
                Some(names) => match names.entry(name) {
                    Entry::Occupied(id) => *id.get(),
                    Entry::Vacant(place) => *place.insert(index.push_name(name)),
                },
                None => index.push_name(name),
            };
            Loc { dir, name }
        };
        for (path, previous) in paths {
            let path = locate(&mut index, path);
            let previous = previous.map(|previous| locate(&mut index, previous));
            index.files.push((path, previous));
        }
        index
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

    /// The id of directory `dir`, added with its missing ancestors: walked down from
    /// the top one segment at a time (cheaper than a look-up of the whole text, as
    /// most directories of a change are new: 11,056 parents of 20,000 paths at the
    /// peers' L), so a deep path costs its length, not its length times its depth.
    /// Without `below`, each segment is numbered afresh.
    fn dir<'p>(&mut self, mut below: Option<&mut Below<'p>>, dir: &'p str) -> u32 {
        let mut parent = NO_DIR;
        let mut rest = Some(dir);
        // Segments are short: a plain loop finds each `/` sooner than a searcher.
        while let Some(at) = rest {
            let (segment, after) = match at.bytes().position(|b| b == b'/') {
                Some(slash) => (at.get(..slash).unwrap_or_default(), at.get(slash + 1..)),
                None => (at, None),
            };
            rest = after;
            parent = match &mut below {
                Some(below) => match below.entry((parent, segment)) {
                    Entry::Occupied(id) => *id.get(),
                    Entry::Vacant(place) => *place.insert(self.push_dir(parent, segment)),
                },
                None => self.push_dir(parent, segment),
            };
        }
        parent
    }

    /// A new directory: `segment` below `parent`.
    fn push_dir(&mut self, parent: u32, segment: &str) -> u32 {
        let (start, end) = self.push_text(segment);
        let id = self.dirs.len() as u32;
        self.dirs.push(Dir { parent, start, end });
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

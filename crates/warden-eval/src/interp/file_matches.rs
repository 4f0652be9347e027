//! The per-glob match lists over `change.files`: every path (and previous path) is
//! matched against all of the policy's globs once per evaluation, on first need, and
//! `any`/`all`/`none`/`count`/`filter` of a glob test over the files and `f.touches(G)`
//! read the lists instead of matching again. The lists hold file indexes; a file node
//! finds its index from its place in the change's list of files.

use std::rc::Rc;

use warden_change::model::File;
use warden_change::view::Node;
use warden_check::ir::{self, BinOp, Builtin, ExprKind, GlobId};

use super::{Ctx, Frame, Result};
use crate::globs::{BuildResult, NO_FILE, PathIndex, PathMatcher};
use crate::value::Value;

/// For each glob, the files (indexes, ascending) whose path matches, and those whose
/// path or previous path matches (`touches`). Built in one pass over the paths.
pub(super) struct FileMatches {
    path: Lists,
    /// `None` when no file has a previous path: `touches` is then `path`.
    touch: Option<Lists>,
}

/// A list of file indexes per glob, all in one vector: glob `g`'s are
/// `files[starts[g]..starts[g + 1]]`. One vector per glob grew by doubling, one
/// allocation after another for the globs that match many files.
struct Lists {
    starts: Vec<usize>,
    files: Vec<u32>,
}

impl Lists {
    fn get(&self, glob: GlobId) -> &[u32] {
        let at = glob.0 as usize;
        match (self.starts.get(at), self.starts.get(at + 1)) {
            (Some(&start), Some(&end)) => self.files.get(start..end),
            _ => None,
        }
        .unwrap_or(&[])
    }
}

/// Collects the lists: the matches arrive file by file, in ascending order.
struct Collect {
    /// `(glob, file)`, each once.
    hits: Vec<(u32, u32)>,
    counts: Vec<usize>,
    /// The last file added to each glob's list: a glob with several matching patterns
    /// is reported once per pattern.
    last: Vec<Option<u32>>,
}

impl Collect {
    /// For `globs` globs and `files` files (most files match a glob or two).
    fn new(globs: usize, files: usize) -> Collect {
        Collect {
            hits: Vec::with_capacity(files.saturating_mul(2)),
            counts: vec![0; globs],
            last: vec![None; globs],
        }
    }

    fn add(&mut self, glob: GlobId, file: u32) {
        let at = glob.0 as usize;
        if let (Some(last), Some(count)) = (self.last.get_mut(at), self.counts.get_mut(at))
            && *last != Some(file)
        {
            *last = Some(file);
            *count += 1;
            self.hits.push((glob.0, file));
        }
    }

    fn finish(self) -> Lists {
        let mut starts = Vec::with_capacity(self.counts.len() + 1);
        let mut total = 0usize;
        starts.push(0);
        for count in &self.counts {
            total += count;
            starts.push(total);
        }
        // Each glob's next free place; the hits come in file order, so each list is
        // filled in ascending order.
        let mut next = starts.clone();
        let mut files = vec![0; total];
        for (glob, file) in self.hits {
            if let Some(place) = next.get_mut(glob as usize)
                && let Some(slot) = files.get_mut(*place)
            {
                *slot = file;
                *place += 1;
            }
        }
        Lists { starts, files }
    }
}

/// The index of `file` in `files`, if it is one of them: a file node refers to its
/// element of the list.
fn index_of(files: &[File], file: &File) -> Option<u32> {
    let offset = std::ptr::from_ref(file)
        .addr()
        .checked_sub(files.as_ptr().addr())?;
    let index = offset / size_of::<File>().max(1);
    let element = files.get(index)?;
    std::ptr::eq(element, file).then_some(index as u32)
}

impl FileMatches {
    /// The lists of `f.path matches G` or of `f.touches(G)`.
    fn lists(&self, touches: bool) -> &Lists {
        match &self.touch {
            Some(touch) if touches => touch,
            _ => &self.path,
        }
    }
}

/// For each glob, the first file whose path matches, and the first whose path or
/// previous path does: all that `any` and its witness ask, found without the lists.
pub(super) struct FirstMatches {
    path: Vec<u32>,
    /// `None` when no file has a previous path: `touches` is then `path`.
    touch: Option<Vec<u32>>,
}

impl FirstMatches {
    fn get(&self, glob: GlobId, touches: bool) -> Option<usize> {
        let firsts = match &self.touch {
            Some(touch) if touches => touch,
            _ => &self.path,
        };
        let first = *firsts.get(glob.0 as usize)?;
        (first != NO_FILE).then_some(first as usize)
    }
}

impl<'a, 'p> Ctx<'a, 'p> {
    /// The files matching a glob (path only, or path or previous path), through the
    /// policy-wide matcher that sees each path once per evaluation.
    pub fn files_matching(
        &mut self,
        glob: GlobId,
        touches: bool,
        at: &ir::Expr,
    ) -> Result<'a, &[u32]> {
        if self.file_matches.is_none() {
            let table = self
                .with_matcher(Self::match_files)
                .map_err(|e| Self::uncompiled(at, &e))?;
            self.file_matches = Some(table);
        }
        let Some(matches) = &self.file_matches else {
            return Ok(&[]);
        };
        Ok(matches.lists(touches).get(glob))
    }

    fn uncompiled(at: &ir::Expr, error: &str) -> Box<super::EvalError> {
        Self::error(
            at,
            format!("the policy's globs could not be compiled: {error}"),
        )
    }

    /// Runs `f` with a matcher of every glob over the index of the change's paths (the
    /// one given with the change, or one built here).
    fn with_matcher<T>(
        &mut self,
        f: impl FnOnce(&Self, &mut PathMatcher<'p, '_>, &PathIndex) -> T,
    ) -> BuildResult<T> {
        let change = self.change;
        let files = &change.files;
        let built;
        let index = match self.paths {
            Some(index) if index.describes(files) => index,
            _ => {
                built = PathIndex::new(files);
                &built
            }
        };
        let paths = files.iter().flat_map(|file| {
            std::iter::once(file.path.as_str()).chain(file.previous_path.as_deref())
        });
        let compiled = self.compiled;
        let mut matcher = compiled.globs.matcher(index, paths, self.places.take())?;
        let result = f(self, &mut matcher, index);
        // The lists and the first matches use the same look-ups of directories and
        // names: an evaluation that needs both makes them once.
        self.places = matcher.take_places();
        Ok(result)
    }

    /// Matches every path (and previous path) of the change against every glob once.
    fn match_files(&self, matcher: &mut PathMatcher<'_, '_>, index: &PathIndex) -> FileMatches {
        let globs = &self.compiled.globs;
        let files = &self.change.files;
        let mut path = Collect::new(globs.len(), files.len());
        let renamed = files.iter().any(|f| f.previous_path.is_some());
        let mut touch = renamed.then(|| Collect::new(globs.len(), files.len()));
        for (index, (file, &(place, previous_place))) in files.iter().zip(&index.files).enumerate()
        {
            let index = index as u32;
            matcher.matching(&file.path, place, |glob| {
                path.add(glob, index);
                if let Some(touch) = &mut touch {
                    touch.add(glob, index);
                }
            });
            if let (Some(previous), Some(place), Some(touch)) =
                (&file.previous_path, previous_place, &mut touch)
            {
                matcher.matching(previous, place, |glob| touch.add(glob, index));
            }
        }
        FileMatches {
            path: path.finish(),
            touch: touch.map(Collect::finish),
        }
    }

    /// Index of the first file matching a glob: from the lists when they were made,
    /// else from the first matches of every glob, found once per evaluation.
    pub fn first_file_match(
        &mut self,
        glob: GlobId,
        touches: bool,
        at: &ir::Expr,
    ) -> Result<'a, Option<usize>> {
        if let Some(matches) = &self.file_matches {
            return Ok(matches
                .lists(touches)
                .get(glob)
                .first()
                .map(|i| *i as usize));
        }
        if self.first_matches.is_none() {
            let firsts = self
                .with_matcher(Self::find_first_matches)
                .map_err(|e| Self::uncompiled(at, &e))?;
            self.first_matches = Some(firsts);
        }
        Ok(self
            .first_matches
            .as_ref()
            .and_then(|firsts| firsts.get(glob, touches)))
    }

    fn find_first_matches(
        &self,
        matcher: &mut PathMatcher<'_, '_>,
        index: &PathIndex,
    ) -> FirstMatches {
        let files = &self.change.files;
        let places = index.files.iter().map(|(place, _)| Some(*place));
        let path = match matcher.indexed_first_matches() {
            Some(path) => path,
            None => matcher.first_matches(places, |at| Some(files.get(at)?.path.as_str())),
        };
        let renamed = index.files.iter().any(|(_, previous)| previous.is_some());
        let touch = renamed.then(|| {
            let places = index.files.iter().map(|(_, previous)| *previous);
            let previous =
                matcher.first_matches(places, |at| files.get(at)?.previous_path.as_deref());
            path.iter()
                .zip(previous)
                .map(|(path, previous)| (*path).min(previous))
                .collect()
        });
        FirstMatches { path, touch }
    }

    /// When `lambda` is a glob test on its parameter (`f => f.touches(G)` or
    /// `f => f.path matches G`, `G` not depending on `f`), the glob and whether it
    /// is `touches`.
    fn file_glob_test(
        &mut self,
        lambda: &ir::Expr,
        frame: &mut Frame<'a>,
    ) -> Result<'a, Option<(GlobId, bool)>> {
        let ExprKind::Lambda { param, body } = &lambda.kind else {
            return Ok(None);
        };
        let is_param = |e: &ir::Expr| matches!(e.kind, ExprKind::Local(l) if l == *param);
        let (pattern, touches) = match &body.kind {
            ExprKind::Builtin {
                op: Builtin::Touches,
                args,
                ..
            } => match args.as_slice() {
                [file, pattern] if is_param(file) => (pattern, true),
                _ => return Ok(None),
            },
            ExprKind::Binary {
                op: BinOp::Matches,
                lhs,
                rhs,
            } => match &lhs.kind {
                ExprKind::Field { base, field, .. }
                    if is_param(base) && Some(*field) == self.fields.file_path =>
                {
                    (&**rhs, false)
                }
                _ => return Ok(None),
            },
            _ => return Ok(None),
        };
        if !matches!(
            pattern.kind,
            ExprKind::Glob(_) | ExprKind::Global(_) | ExprKind::Local(_)
        ) || is_param(pattern)
        {
            return Ok(None);
        }
        Ok(match self.eval(pattern, frame)? {
            Value::Glob(glob) => Some((glob, touches)),
            _ => None,
        })
    }

    /// `any`, `all`, `none`, `count` and `filter` of a glob test over `change.files`,
    /// answered from the policy-wide matcher.
    pub(super) fn files_quantifier(
        &mut self,
        op: Builtin,
        items: &Rc<[Value<'a>]>,
        lambda: &ir::Expr,
        frame: &mut Frame<'a>,
    ) -> Result<'a, Option<Value<'a>>> {
        let files = self
            .fields
            .change_files
            .and_then(|f| self.root_fields.get(f))
            .and_then(Option::as_ref);
        let is_files = matches!(files, Some(Value::List(files)) if Rc::ptr_eq(files, items));
        if !is_files {
            return Ok(None);
        }
        let Some((glob, touches)) = self.file_glob_test(lambda, frame)? else {
            return Ok(None);
        };
        if matches!(op, Builtin::Any | Builtin::None) {
            let found = self.first_file_match(glob, touches, lambda)?.is_some();
            return Ok(Some(Value::Bool(found == (op == Builtin::Any))));
        }
        let total = items.len();
        let hits = self.files_matching(glob, touches, lambda)?;
        Ok(Some(match op {
            Builtin::All => Value::Bool(hits.len() == total),
            Builtin::Count => Value::Int(hits.len() as i64),
            _ => Value::List(
                hits.iter()
                    .filter_map(|i| items.get(*i as usize).cloned())
                    .collect(),
            ),
        }))
    }

    /// Whether `text` matches a glob: patterns of a common shape are tested directly,
    /// as fast as a look-up in the lists would be.
    pub fn glob_matches(&self, glob: GlobId, text: &str, at: &ir::Expr) -> Result<'a, bool> {
        self.compiled
            .globs
            .is_match(glob, text)
            .map_err(|e| Self::error(at, format!("the glob could not be compiled: {e}")))
    }

    /// `File.touches(glob)`: the path or the previous path matches.
    pub(super) fn touches(&self, node: Node<'a>, glob: GlobId, expr: &ir::Expr) -> Result<'a> {
        if let (Node::File(file), Some(table)) = (node, &self.file_matches)
            && let Some(index) = index_of(&self.change.files, file)
        {
            let files = table.lists(true).get(glob);
            return Ok(Value::Bool(files.binary_search(&index).is_ok()));
        }
        let mut touched = false;
        let fields = [self.fields.file_path, self.fields.file_previous_path];
        for field in fields.into_iter().flatten() {
            if let Value::Str(path) = Value::from_datum(self.view.field(node, field)) {
                touched |= self.glob_matches(glob, path.as_str(), expr)?;
            }
        }
        Ok(Value::Bool(touched))
    }
}

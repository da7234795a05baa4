//! The hive: base block + hive bins data, and navigation from the root key.

use std::collections::HashSet;
use std::rc::Rc;

use crate::base_block::{BaseBlock, BASE_BLOCK_SIZE};
use crate::bytes::require_len;
use crate::cell::Cells;
use crate::error::{Error, Result};
use crate::key::Key;

/// Windows refuses keys nested deeper than 512 levels; so do we, which also keeps a
/// hostile hive from making a walk run forever.
pub const MAX_KEY_DEPTH: usize = 512;

/// A registry hive held in memory, read-only.
#[derive(Debug, Clone)]
pub struct Hive {
    bytes: Vec<u8>,
    base: BaseBlock,
}

impl Hive {
    /// Takes a whole primary hive file. Only the base block signature is required;
    /// a dirty or wrongly checksummed hive still opens (see [`crate::recover`] to
    /// replay its logs first).
    pub fn from_bytes(bytes: Vec<u8>) -> Result<Self> {
        let base = BaseBlock::parse(&bytes)?;
        require_len(&bytes, BASE_BLOCK_SIZE, "base block")?;
        Ok(Hive { bytes, base })
    }

    /// A hive from bytes whose base block the caller already parsed.
    pub(crate) fn with_base(bytes: Vec<u8>, base: BaseBlock) -> Self {
        Hive { bytes, base }
    }

    /// The parsed base block.
    pub fn base_block(&self) -> &BaseBlock {
        &self.base
    }

    /// True when the base block says the file misses logged changes.
    pub fn is_dirty(&self) -> bool {
        self.base.is_dirty()
    }

    /// The whole file as given.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    pub(crate) fn cells(&self) -> Cells<'_> {
        Cells::new(&self.bytes, self.base.hive_bins_data_size)
    }

    /// The root key.
    pub fn root(&self) -> Result<Key<'_>> {
        Key::at(self, self.base.root_cell_offset)
    }

    /// Opens a key by path relative to the root, case-insensitively; `\` and `/` both
    /// separate components and empty components are ignored (`""` is the root).
    pub fn open_key(&self, path: &str) -> Result<Option<Key<'_>>> {
        let mut key = self.root()?;
        for (depth, component) in path
            .split(['\\', '/'])
            .filter(|c| !c.is_empty())
            .enumerate()
        {
            if depth >= MAX_KEY_DEPTH {
                return Err(Error::BadPath(path.to_owned()));
            }
            match key.subkey(component)? {
                Some(next) => key = next,
                None => return Ok(None),
            }
        }
        Ok(Some(key))
    }

    /// Visits every key depth-first (parents before children, subkeys in stored
    /// order) with its path relative to the root (`""` for the root, components joined
    /// by `\`). A subtree that cannot be read is skipped and its error returned; a key
    /// reached twice (a loop) or nested deeper than [`MAX_KEY_DEPTH`] is not entered.
    /// Each key's value list damage ([`Key::value_problems`]) is returned too.
    pub fn walk<'h>(&'h self, mut visit: impl FnMut(&str, &Key<'h>)) -> Result<Vec<Error>> {
        let root = self.root()?;
        let mut problems = Vec::new();
        let mut seen = HashSet::new();
        // Waiting keys hold their parent's path, shared, and get their own only
        // when visited: a key of 100 000 subkeys 500 deep would otherwise hold
        // 100 000 copies of a long path at once.
        let mut stack: Vec<(Option<Rc<str>>, Key<'h>, usize)> = vec![(None, root, 0usize)];
        while let Some((parent, key, depth)) = stack.pop() {
            let path: Rc<str> = match parent.as_deref() {
                None => Rc::from(""),
                Some("") => Rc::from(key.name()),
                Some(parent) => Rc::from(format!("{parent}\\{}", key.name())),
            };
            if !seen.insert(key.offset()) {
                problems.push(Error::Cycle {
                    offset: key.offset(),
                });
                continue;
            }
            visit(&path, &key);
            problems.extend(key.value_problems());
            if depth >= MAX_KEY_DEPTH {
                problems.push(Error::TooDeep {
                    offset: key.offset(),
                    limit: MAX_KEY_DEPTH,
                });
                continue;
            }
            match key.subkeys() {
                Ok(children) => {
                    if (key.subkey_count() as usize) > children.len() {
                        problems.push(Error::CountMismatch {
                            offset: key.offset(),
                            what: "subkey",
                            claimed: key.subkey_count(),
                            listed: children.len(),
                        });
                    }
                    for child in children.into_iter().rev() {
                        stack.push((Some(Rc::clone(&path)), child, depth + 1));
                    }
                }
                Err(e) => problems.push(e),
            }
        }
        Ok(problems)
    }
}

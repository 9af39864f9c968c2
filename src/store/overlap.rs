//! How a path stands to the catalog root (a leaf: [`crate::Error`] carries
//! it, so it imports nothing from the crate). The check is in
//! `root_overlap.rs`.

/// How a path given to `adopt` or `import` overlaps the catalog root.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RootOverlap {
    /// It is the catalog root (perhaps by another path to it).
    Root,
    /// It lies inside the catalog root.
    Inside,
    /// It is a directory that contains the catalog root.
    Contains,
}

impl RootOverlap {
    /// `"is"`, `"is inside"` or `"contains"`: how the path stands to the
    /// root, in words.
    pub fn as_str(self) -> &'static str {
        match self {
            RootOverlap::Root => "is",
            RootOverlap::Inside => "is inside",
            RootOverlap::Contains => "contains",
        }
    }
}

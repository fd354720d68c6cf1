//! Hugo/Jekyll-style Markdown files with front matter, in a folder or a git repository.

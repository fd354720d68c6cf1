//! A second opinion on the sanitiser's output (cargo feature `inert-check`).
//!
//! The sanitiser's own tests can only compare strings. This module instead parses what the
//! sanitiser emitted with a real HTML5 parser (html5ever, the tree builder browsers follow),
//! exactly as a browser would when the body is put inside the page's `<div class="body">`,
//! and walks the resulting tree looking for anything that could run script, load active
//! content, restyle or leave the page. Parsing the *output* again is what catches mutation
//! XSS: markup that was harmless as the sanitiser saw it but turns into something else once
//! serialised and read back.
//!
//! It shares no code with the sanitiser (its own element lists, its own URL-scheme reader)
//! so a mistake in one is not silently repeated in the other. It is used by the XSS corpus
//! test and by the fuzz targets in `fuzz/`; production builds do not include it.
//!
//! Two levels of checks:
//! - *dangerous*: script-capable or page-altering elements, foreign (SVG/MathML) content,
//!   `on*` handlers, `style`, `srcdoc`, `http-equiv`, and URL attributes whose scheme (after
//!   the parser's entity decoding, control/whitespace stripping and case folding) is anything
//!   but `http`, `https`, `mailto` or relative; comments, doctypes and processing instructions;
//! - *allowlist* (article bodies only): every element and attribute is one the article
//!   allowlist documents on [`crate::render_markdown`], links carry `rel="noopener
//!   noreferrer"`, ids and in-page links are `fn-` prefixed, classes are the footnote and
//!   `language-*` ones.

use std::borrow::Cow;
use std::cell::RefCell;
use std::fmt;
use std::rc::Rc;

use html5ever::interface::{ElementFlags, NodeOrText, QuirksMode, TreeSink};
use html5ever::tendril::{StrTendril, TendrilSink};
use html5ever::{Attribute, ExpandedName, ParseOpts, QualName, local_name, ns};

/// One reason why some HTML is not inert.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// Where in the parsed tree, e.g. `p > a[2]` (element names from the root, with the
    /// position among siblings when not the first).
    pub path: String,
    /// What is wrong, in plain words.
    pub what: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.what)
    }
}

/// Checks an article body (output of [`crate::render_markdown`] or [`crate::sanitise_html`])
/// parsed as a browser parses it inside a `<div>`: the dangerous rules and the article
/// allowlist. An empty list means inert.
pub fn article_violations(html: &str) -> Vec<Violation> {
    let tree = html5ever::parse_fragment(
        Tree::new(true),
        ParseOpts::default(),
        QualName::new(None, ns!(html), local_name!("div")),
        Vec::new(),
        false,
    )
    .one(html);
    let mut out = Vec::new();
    // The fragment parser puts the fragment under a synthetic `<html>` root.
    let roots: Vec<usize> = tree
        .children(Tree::DOCUMENT)
        .into_iter()
        .flat_map(|root| tree.children(root))
        .collect();
    tree.walk(&roots, &mut |id| {
        check_node(&tree, id, Level::Article, &mut out);
    });
    out
}

/// Checks a whole document from [`crate::page_html`] or [`crate::index_html`]: the dangerous
/// rules everywhere, except for the page's own `<head>` (`<meta>`, `<title>`, `<style>`), which
/// must hold a Content-Security-Policy forbidding scripts and nothing else active.
pub fn page_violations(html: &str) -> Vec<Violation> {
    let tree = html5ever::parse_document(Tree::new(false), ParseOpts::default()).one(html);
    let mut out = Vec::new();
    let mut has_csp = false;
    let roots = tree.children(Tree::DOCUMENT);
    tree.walk(&roots, &mut |id| {
        if let Data::Element { name, attrs, .. } = &tree.node(id).data
            && name.ns == ns!(html)
            && &*name.local == "meta"
        {
            let attrs = attrs.borrow();
            let http_equiv = attr_value(&attrs, "http-equiv");
            if http_equiv.is_some_and(|v| v.eq_ignore_ascii_case("content-security-policy"))
                && attr_value(&attrs, "content").is_some_and(|csp| {
                    csp.contains("default-src 'none'") && !csp.contains("script-src")
                })
            {
                has_csp = true;
            }
        }
        check_node(&tree, id, Level::Page, &mut out);
    });
    if !has_csp {
        out.push(Violation {
            path: "head".into(),
            what: "no Content-Security-Policy with default-src 'none'".into(),
        });
    }
    out
}

/// Panics with every violation found in `html`, the sanitised form of `input`. For tests and
/// fuzz targets.
#[track_caller]
pub fn assert_article_inert(input: &str, html: &str) {
    let violations = article_violations(html);
    if !violations.is_empty() {
        let list: Vec<String> = violations.iter().map(|v| format!("  - {v}")).collect();
        panic!(
            "sanitised output is not inert:\n{}\ninput:  {input:?}\noutput: {html:?}",
            list.join("\n")
        );
    }
}

/// The scheme of a URL as a browser's URL parser reads it (ASCII lower case), or `None`
/// for a relative URL. `value` is an attribute value as the HTML parser produced it, so
/// character references are already decoded.
///
/// Following the URL Standard: leading and trailing C0 controls and spaces are dropped, tabs
/// and newlines are removed anywhere, and a scheme is an ASCII letter followed by letters,
/// digits, `+`, `-` or `.` up to the first `:`; anything else before a `:` makes the URL
/// relative.
pub fn browser_scheme(value: &str) -> Option<String> {
    let mut scheme = String::new();
    let trimmed = value.trim_matches(|c: char| c <= '\u{20}');
    for c in trimmed.chars().filter(|c| !matches!(c, '\t' | '\n' | '\r')) {
        match c {
            ':' if !scheme.is_empty() => return Some(scheme),
            c if c.is_ascii_alphabetic() => scheme.push(c.to_ascii_lowercase()),
            c if !scheme.is_empty() && (c.is_ascii_digit() || matches!(c, '+' | '-' | '.')) => {
                scheme.push(c)
            }
            _ => return None,
        }
    }
    None
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Level {
    /// An article body: dangerous rules and the article allowlist.
    Article,
    /// A whole page: dangerous rules, with the page's own head allowed.
    Page,
}

/// Elements that run script, load or embed other documents, submit data, change how the
/// rest of the page is parsed or styled, or hide markup from one parser but not another.
const DANGEROUS_ELEMENTS: &[&str] = &[
    "script",
    "noscript",
    "style",
    "link",
    "meta",
    "base",
    "title",
    "head",
    "body",
    "html",
    "iframe",
    "frame",
    "frameset",
    "object",
    "embed",
    "applet",
    "param",
    "portal",
    "fencedframe",
    "form",
    "input",
    "button",
    "select",
    "textarea",
    "option",
    "optgroup",
    "datalist",
    "output",
    "keygen",
    "isindex",
    "template",
    "slot",
    "xmp",
    "noembed",
    "noframes",
    "plaintext",
    "svg",
    "math",
];

/// Attributes holding one URL, or (`ping`, `archive`) several separated by spaces.
const URL_ATTRIBUTES: &[&str] = &[
    "href",
    "src",
    "action",
    "formaction",
    "poster",
    "background",
    "cite",
    "data",
    "codebase",
    "classid",
    "longdesc",
    "lowsrc",
    "dynsrc",
    "manifest",
    "usemap",
    "icon",
    "profile",
    "itemtype",
    "ping",
    "archive",
];

/// Attributes that are active whatever their value.
const DANGEROUS_ATTRIBUTES: &[&str] = &["style", "srcdoc", "http-equiv"];

/// The article allowlist, written out independently of the sanitiser's.
const ARTICLE_ELEMENTS: &[&str] = &[
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "p",
    "br",
    "hr",
    "blockquote",
    "pre",
    "code",
    "em",
    "strong",
    "del",
    "ul",
    "ol",
    "li",
    "a",
    "img",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "figure",
    "figcaption",
    "sup",
    "div",
];

fn article_attribute_allowed(element: &str, attribute: &str) -> bool {
    matches!(
        (element, attribute),
        ("a", "href" | "title" | "rel")
            | ("img", "src" | "alt" | "title")
            | ("ol", "start")
            | ("code", "class")
            | ("sup" | "div", "class" | "id")
    )
}

fn check_node(tree: &Tree, id: usize, level: Level, out: &mut Vec<Violation>) {
    let node = tree.node(id);
    let mut report = |what: String| {
        out.push(Violation {
            path: tree.path(id),
            what,
        })
    };
    let (name, attrs) = match &node.data {
        Data::Element { name, attrs, .. } => (name, attrs.borrow()),
        Data::Comment(text) => return report(format!("comment <!--{text}-->")),
        Data::Doctype => {
            if level == Level::Article {
                report("doctype".into());
            }
            return;
        }
        Data::ProcessingInstruction => return report("processing instruction".into()),
        Data::Document | Data::Fragment | Data::Text(_) => return,
    };
    let element = &*name.local;
    if name.ns != ns!(html) {
        let ns = if name.ns == ns!(svg) {
            "SVG"
        } else if name.ns == ns!(mathml) {
            "MathML"
        } else {
            "foreign"
        };
        report(format!("{ns} element <{element}>"));
    } else if DANGEROUS_ELEMENTS.contains(&element) && !page_chrome(tree, id, level) {
        report(format!("element <{element}>"));
    } else if level == Level::Article && !ARTICLE_ELEMENTS.contains(&element) {
        report(format!(
            "element <{element}> is not in the article allowlist"
        ));
    }

    for attr in attrs.iter() {
        let attribute = attribute_name(attr);
        let local = &*attr.name.local;
        let value = &*attr.value;
        if local.starts_with("on") {
            report(format!("event handler {attribute}={value:?}"));
        } else if DANGEROUS_ATTRIBUTES.contains(&local) {
            let csp_meta = local == "http-equiv"
                && page_chrome(tree, id, level)
                && value.eq_ignore_ascii_case("content-security-policy");
            if !csp_meta {
                report(format!("attribute {attribute}={value:?}"));
            }
        } else if URL_ATTRIBUTES.contains(&local) {
            let urls: Vec<&str> = if matches!(local, "ping" | "archive") {
                value.split_ascii_whitespace().collect()
            } else {
                vec![value]
            };
            for url in urls {
                if let Some(scheme) = browser_scheme(url)
                    && !matches!(scheme.as_str(), "http" | "https" | "mailto")
                {
                    report(format!("{scheme}: URL in {attribute}={value:?}"));
                }
            }
        } else if matches!(local, "srcset" | "imagesrcset") {
            // Candidates are separated by commas; each is a URL and an optional descriptor.
            for candidate in value.split(',') {
                let url = candidate.split_ascii_whitespace().next().unwrap_or("");
                if let Some(scheme) = browser_scheme(url)
                    && !matches!(scheme.as_str(), "http" | "https")
                {
                    report(format!("{scheme}: URL in {attribute}={value:?}"));
                }
            }
        }
        if level == Level::Article && name.ns == ns!(html) {
            check_article_attribute(element, &attribute, value, &mut report);
        }
    }
    if level == Level::Article && name.ns == ns!(html) && element == "a" {
        let rel = attr_value(&attrs, "rel").unwrap_or_default();
        let tokens: Vec<String> = rel
            .split_ascii_whitespace()
            .map(str::to_ascii_lowercase)
            .collect();
        if !tokens.iter().any(|t| t == "noopener") || !tokens.iter().any(|t| t == "noreferrer") {
            report(format!(
                "link without rel=\"noopener noreferrer\" (rel={rel:?})"
            ));
        }
    }
}

fn check_article_attribute(
    element: &str,
    attribute: &str,
    value: &str,
    report: &mut impl FnMut(String),
) {
    if !article_attribute_allowed(element, attribute) {
        report(format!(
            "attribute {attribute}={value:?} on <{element}> is not in the article allowlist"
        ));
        return;
    }
    match (element, attribute) {
        ("img", "src") => {
            if let Some(scheme) = browser_scheme(value)
                && scheme != "http"
                && scheme != "https"
            {
                report(format!("{scheme}: URL as an image"));
            }
        }
        ("a", "href") => {
            if let Some(fragment) = value.strip_prefix('#')
                && !fragment.starts_with("fn-")
            {
                report(format!("in-page link {value:?} without the fn- prefix"));
            }
        }
        (_, "id") if !value.starts_with("fn-") => {
            report(format!("id={value:?} without the fn- prefix"));
        }
        ("code", "class") => {
            let ok = value.strip_prefix("language-").is_some_and(|lang| {
                !lang.is_empty()
                    && lang
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || "-_+#.".contains(c))
            });
            if !ok {
                report(format!("class={value:?} on <code>"));
            }
        }
        ("ol", "start") if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) => {
            report(format!("start={value:?} on <ol> is not a number"));
        }
        ("sup", "class")
            if !matches!(value, "footnote-reference" | "footnote-definition-label") =>
        {
            report(format!("class={value:?} on <sup>"));
        }
        ("div", "class") if value != "footnote-definition" => {
            report(format!("class={value:?} on <div>"));
        }
        _ => {}
    }
}

/// Whether an element that would be dangerous in a body is the page's own frame: `<html>`,
/// `<head>`, `<body>`, and `<meta>`, `<title>`, `<style>` directly in `<head>`.
fn page_chrome(tree: &Tree, id: usize, level: Level) -> bool {
    if level != Level::Page {
        return false;
    }
    let Some(element) = tree.html_name(id) else {
        return false;
    };
    let parent = tree.parent(id).and_then(|p| tree.html_name(p));
    match element {
        "html" => tree.parent(id) == Some(Tree::DOCUMENT),
        "head" | "body" => parent == Some("html"),
        "meta" | "title" | "style" => parent == Some("head"),
        _ => false,
    }
}

fn attribute_name(attr: &Attribute) -> String {
    match &attr.name.prefix {
        Some(prefix) => format!("{}:{}", &**prefix, &*attr.name.local),
        None => attr.name.local.to_string(),
    }
}

fn attr_value<'a>(attrs: &'a [Attribute], name: &str) -> Option<&'a str> {
    attrs
        .iter()
        .find(|a| a.name.ns == ns!() && &*a.name.local == name)
        .map(|a| &*a.value)
}

// ---------------------------------------------------------------------------------------------
// A small arena DOM for html5ever's tree builder. Nodes are numbered; the tree's shape lives in
// index vectors, so neither building, walking nor dropping a very deep tree recurses.

enum Data {
    Document,
    /// The contents of a `<template>`.
    Fragment,
    Doctype,
    Text(RefCell<StrTendril>),
    Comment(StrTendril),
    ProcessingInstruction,
    Element {
        name: QualName,
        attrs: RefCell<Vec<Attribute>>,
        template_contents: Option<usize>,
        annotation_xml_integration_point: bool,
    },
}

struct Node {
    id: usize,
    data: Data,
}

type Handle = Rc<Node>;

struct Tree {
    /// Parsed as a fragment: the document's `<html>` child is the parser's, not the input's.
    fragment: bool,
    nodes: RefCell<Vec<Handle>>,
    parents: RefCell<Vec<Option<usize>>>,
    children: RefCell<Vec<Vec<usize>>>,
}

impl Tree {
    const DOCUMENT: usize = 0;

    fn new(fragment: bool) -> Self {
        let tree = Tree {
            fragment,
            nodes: RefCell::new(Vec::new()),
            parents: RefCell::new(Vec::new()),
            children: RefCell::new(Vec::new()),
        };
        tree.add(Data::Document);
        tree
    }

    fn add(&self, data: Data) -> Handle {
        let mut nodes = self.nodes.borrow_mut();
        let node = Rc::new(Node {
            id: nodes.len(),
            data,
        });
        nodes.push(Rc::clone(&node));
        self.parents.borrow_mut().push(None);
        self.children.borrow_mut().push(Vec::new());
        node
    }

    fn node(&self, id: usize) -> Handle {
        Rc::clone(&self.nodes.borrow()[id])
    }

    fn parent(&self, id: usize) -> Option<usize> {
        self.parents.borrow()[id]
    }

    fn children(&self, id: usize) -> Vec<usize> {
        self.children.borrow()[id].clone()
    }

    fn html_name(&self, id: usize) -> Option<&'static str> {
        // Only used for the handful of page-frame names, so a static answer suffices.
        match &self.node(id).data {
            Data::Element { name, .. } if name.ns == ns!(html) => {
                ["html", "head", "body", "meta", "title", "style"]
                    .into_iter()
                    .find(|n| *n == &*name.local)
            }
            _ => None,
        }
    }

    /// Visits `roots` and all their descendants (template contents included), in document
    /// order, without recursion.
    fn walk(&self, roots: &[usize], visit: &mut impl FnMut(usize)) {
        let mut stack: Vec<usize> = roots.iter().rev().copied().collect();
        while let Some(id) = stack.pop() {
            visit(id);
            let node = self.node(id);
            if let Data::Element {
                template_contents: Some(contents),
                ..
            } = node.data
            {
                stack.extend(self.children(contents).into_iter().rev());
            }
            stack.extend(self.children(id).into_iter().rev());
        }
    }

    /// `html > body > p[2] > a`, for messages.
    fn path(&self, id: usize) -> String {
        let mut parts = Vec::new();
        let mut current = Some(id);
        while let Some(id) = current {
            let name = match &self.node(id).data {
                Data::Element { name, .. } => name.local.to_string(),
                Data::Text(_) => "#text".into(),
                Data::Comment(_) => "#comment".into(),
                Data::Doctype => "#doctype".into(),
                Data::ProcessingInstruction => "#pi".into(),
                Data::Fragment => "#template-contents".into(),
                Data::Document => break,
            };
            let parent = self.parent(id);
            if self.fragment && parent == Some(Self::DOCUMENT) {
                break;
            }
            let position = parent
                .and_then(|p| self.children.borrow()[p].iter().position(|c| *c == id))
                .unwrap_or(0);
            parts.push(if position == 0 {
                name
            } else {
                format!("{name}[{}]", position + 1)
            });
            current = parent;
        }
        parts.reverse();
        parts.join(" > ")
    }

    fn detach(&self, id: usize) {
        if let Some(parent) = self.parents.borrow_mut()[id].take() {
            self.children.borrow_mut()[parent].retain(|c| *c != id);
        }
    }

    fn insert(&self, parent: usize, index: usize, id: usize) {
        self.detach(id);
        self.parents.borrow_mut()[id] = Some(parent);
        let mut children = self.children.borrow_mut();
        let index = index.min(children[parent].len());
        children[parent].insert(index, id);
    }

    /// Appends text to the text node at `children[parent][index]` if there is one.
    fn merge_text(&self, parent: usize, index: Option<usize>, text: &StrTendril) -> bool {
        let Some(index) = index else {
            return false;
        };
        let Some(&sibling) = self.children.borrow()[parent].get(index) else {
            return false;
        };
        match &self.node(sibling).data {
            Data::Text(contents) => {
                contents.borrow_mut().push_tendril(text);
                true
            }
            _ => false,
        }
    }

    fn insert_child(&self, parent: usize, index: usize, child: NodeOrText<Handle>) {
        match child {
            NodeOrText::AppendNode(node) => self.insert(parent, index, node.id),
            NodeOrText::AppendText(text) => {
                if !self.merge_text(parent, index.checked_sub(1), &text) {
                    let node = self.add(Data::Text(RefCell::new(text)));
                    self.insert(parent, index, node.id);
                }
            }
        }
    }
}

impl TreeSink for Tree {
    type Handle = Handle;
    type Output = Self;
    type ElemName<'a> = ExpandedName<'a>;

    fn finish(self) -> Self {
        self
    }

    fn parse_error(&self, _msg: Cow<'static, str>) {}

    fn get_document(&self) -> Handle {
        self.node(Self::DOCUMENT)
    }

    fn elem_name<'a>(&'a self, target: &'a Handle) -> ExpandedName<'a> {
        match &target.data {
            Data::Element { name, .. } => name.expanded(),
            // The tree builder only asks for the names of elements it created.
            _ => unreachable!("elem_name of a non-element"),
        }
    }

    fn create_element(&self, name: QualName, attrs: Vec<Attribute>, flags: ElementFlags) -> Handle {
        let template_contents = flags.template.then(|| self.add(Data::Fragment).id);
        self.add(Data::Element {
            name,
            attrs: RefCell::new(attrs),
            template_contents,
            annotation_xml_integration_point: flags.mathml_annotation_xml_integration_point,
        })
    }

    fn create_comment(&self, text: StrTendril) -> Handle {
        self.add(Data::Comment(text))
    }

    fn create_pi(&self, _target: StrTendril, _data: StrTendril) -> Handle {
        self.add(Data::ProcessingInstruction)
    }

    fn append(&self, parent: &Handle, child: NodeOrText<Handle>) {
        let end = self.children.borrow()[parent.id].len();
        self.insert_child(parent.id, end, child);
    }

    fn append_based_on_parent_node(
        &self,
        element: &Handle,
        prev_element: &Handle,
        child: NodeOrText<Handle>,
    ) {
        if self.parent(element.id).is_some() {
            self.append_before_sibling(element, child);
        } else {
            self.append(prev_element, child);
        }
    }

    fn append_doctype_to_document(
        &self,
        _name: StrTendril,
        _public: StrTendril,
        _system: StrTendril,
    ) {
        let doctype = self.add(Data::Doctype);
        self.append(&self.get_document(), NodeOrText::AppendNode(doctype));
    }

    fn get_template_contents(&self, target: &Handle) -> Handle {
        match target.data {
            Data::Element {
                template_contents: Some(contents),
                ..
            } => self.node(contents),
            _ => unreachable!("template contents of a non-template"),
        }
    }

    fn same_node(&self, x: &Handle, y: &Handle) -> bool {
        x.id == y.id
    }

    fn set_quirks_mode(&self, _mode: QuirksMode) {}

    fn append_before_sibling(&self, sibling: &Handle, new_node: NodeOrText<Handle>) {
        let Some(parent) = self.parent(sibling.id) else {
            return;
        };
        if let NodeOrText::AppendNode(node) = &new_node {
            // Take it out first so the sibling's index is the one after the move.
            self.detach(node.id);
        }
        let index = self.children.borrow()[parent]
            .iter()
            .position(|c| *c == sibling.id)
            .unwrap_or(0);
        self.insert_child(parent, index, new_node);
    }

    fn add_attrs_if_missing(&self, target: &Handle, attrs: Vec<Attribute>) {
        if let Data::Element {
            attrs: existing, ..
        } = &target.data
        {
            let mut existing = existing.borrow_mut();
            for attr in attrs {
                if !existing.iter().any(|e| e.name == attr.name) {
                    existing.push(attr);
                }
            }
        }
    }

    fn remove_from_parent(&self, target: &Handle) {
        self.detach(target.id);
    }

    fn reparent_children(&self, node: &Handle, new_parent: &Handle) {
        let moved = std::mem::take(&mut self.children.borrow_mut()[node.id]);
        let mut parents = self.parents.borrow_mut();
        for id in &moved {
            parents[*id] = Some(new_parent.id);
        }
        self.children.borrow_mut()[new_parent.id].extend(moved);
    }

    fn is_mathml_annotation_xml_integration_point(&self, handle: &Handle) -> bool {
        matches!(
            handle.data,
            Data::Element {
                annotation_xml_integration_point: true,
                ..
            }
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn browser_scheme_follows_the_url_standard() {
        assert_eq!(browser_scheme("https://x").as_deref(), Some("https"));
        assert_eq!(
            browser_scheme("\u{0} \u{1f}JaVa\tSc\nRi\rPt:alert(1)").as_deref(),
            Some("javascript")
        );
        assert_eq!(browser_scheme("x-y+z.1:foo").as_deref(), Some("x-y+z.1"));
        assert_eq!(browser_scheme("1a:b"), None);
        assert_eq!(browser_scheme(":x"), None);
        assert_eq!(browser_scheme("/a:b"), None);
        assert_eq!(browser_scheme("a b:c"), None);
        assert_eq!(browser_scheme("java\u{feff}script:x"), None);
        assert_eq!(browser_scheme("#x:y"), None);
        assert_eq!(browser_scheme("foto.jpg"), None);
        assert_eq!(browser_scheme("javascript%3Ax"), None);
    }

    fn whats(html: &str) -> Vec<String> {
        article_violations(html)
            .into_iter()
            .map(|v| v.to_string())
            .collect()
    }

    #[test]
    fn clean_article_passes() {
        let html = "<h2>Judul</h2><p><a href=\"https://a.go.id\" rel=\"noopener noreferrer\">a</a> \
                    <img src=\"/f.jpg\" alt=\"f\"></p><table><tr><td>1</td></tr></table>\
                    <sup class=\"footnote-reference\"><a href=\"#fn-1\" rel=\"noopener noreferrer\">1</a></sup>\
                    <pre><code class=\"language-rust\">x</code></pre>";
        assert_eq!(whats(html), Vec::<String>::new());
    }

    #[test]
    fn finds_what_a_browser_would_run() {
        let cases: &[(&str, &str)] = &[
            ("<p><script>x</script></p>", "p > script: element <script>"),
            (
                "<p><img src=x onerror=alert(1)></p>",
                "p > img: event handler onerror=\"alert(1)\"",
            ),
            (
                "<a href=\"&#x6A;ava&#9;script&colon;x\" rel=\"noopener noreferrer\">a</a>",
                "a: javascript: URL",
            ),
            (
                "<svg><a xlink:href=\"javascript:x\">a</a></svg>",
                "SVG element <svg>",
            ),
            ("<p style=\"x\">a</p>", "attribute style=\"x\""),
            ("<img src=\"data:image/png,x\">", "data: URL in src"),
            ("<img src=\"mailto:a@b\">", "mailto: URL as an image"),
            ("<a href=\"https://x\">a</a>", "link without rel"),
            (
                "<a href=\"#top\" rel=\"noopener noreferrer\">a</a>",
                "without the fn- prefix",
            ),
            (
                "<div id=\"main\"></div>",
                "id=\"main\" without the fn- prefix",
            ),
            ("<!-- x -->", "comment"),
            ("<math><mi>x</mi></math>", "MathML element <math>"),
            ("<span>x</span>", "not in the article allowlist"),
            (
                "<img srcset=\"javascript:x 1x\">",
                "javascript: URL in srcset",
            ),
        ];
        for (html, expected) in cases {
            let found = whats(html);
            assert!(
                found.iter().any(|w| w.contains(expected)),
                "{html}: expected {expected:?}, found {found:#?}"
            );
        }
    }

    #[test]
    fn reads_markup_as_a_browser_does() {
        // The `<img>` is inside a `<noscript>` that a scripting browser treats as raw text,
        // but the `title` attribute ends it there: the parser sees a live `<img>`.
        let found =
            whats("<noscript><p title=\"</noscript><img src=x onerror=alert(1)>\"></noscript>");
        assert!(found.iter().any(|w| w.contains("onerror")), "{found:#?}");
        // Text that merely looks like markup is text.
        assert_eq!(
            whats("<p>&lt;script&gt;alert(1)&lt;/script&gt; onerror=x javascript:x</p>"),
            Vec::<String>::new()
        );
    }

    #[test]
    fn deep_nesting_does_not_overflow() {
        let html = "<div>".repeat(5_000);
        let found = article_violations(&html);
        assert!(found.is_empty());
    }
}

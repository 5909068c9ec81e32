//! Tables that show as HTML in a notebook and as aligned text in a terminal.
//!
//! Everything a learner typed (node names, values, definitions) passes through [`escape`], so
//! a node named `<b>` is shown as written, not as markup.

use std::fmt;

/// Escapes text for HTML.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Prints `html` as the cell's `text/html` output in evcxr.
pub(crate) fn emit_html(html: &str) {
    println!("EVCXR_BEGIN_CONTENT text/html\n{html}\nEVCXR_END_CONTENT");
}

/// Rows a table shows; the rest are summarised in one line, so a table of a million nodes
/// does not freeze the notebook (the rows stay in [`Table::rows`]).
pub const SHOWN_ROWS: usize = 200;

/// A titled table of strings with an optional note under it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Table {
    /// Shown above the table.
    pub title: String,
    /// Column headers.
    pub headers: Vec<String>,
    /// Rows, each as long as `headers`.
    pub rows: Vec<Vec<String>>,
    /// Lines shown under the table.
    pub notes: Vec<String>,
}

impl Table {
    /// A table with a title and headers, and no rows yet.
    pub fn new<S: Into<String>>(title: impl Into<String>, headers: impl IntoIterator<Item = S>) -> Self {
        Table {
            title: title.into(),
            headers: headers.into_iter().map(Into::into).collect(),
            ..Default::default()
        }
    }
    /// Adds a row.
    pub fn row<S: ToString>(&mut self, cells: impl IntoIterator<Item = S>) -> &mut Self {
        self.rows.push(cells.into_iter().map(|c| c.to_string()).collect());
        self
    }
    /// Adds a note line under the table.
    pub fn note(&mut self, line: impl Into<String>) -> &mut Self {
        self.notes.push(line.into());
        self
    }

    fn hidden_note(&self) -> Option<String> {
        (self.rows.len() > SHOWN_ROWS).then(|| {
            format!(
                "... and {} more rows ({} in all; the first {SHOWN_ROWS} are shown)",
                self.rows.len() - SHOWN_ROWS,
                self.rows.len()
            )
        })
    }

    /// The table as an HTML fragment, every cell escaped.
    pub fn to_html(&self) -> String {
        let mut h = String::from("<div class=\"distlab-table\">");
        if !self.title.is_empty() {
            h += &format!("<p><strong>{}</strong></p>", escape(&self.title));
        }
        h += "<table><thead><tr>";
        for c in &self.headers {
            h += &format!("<th>{}</th>", escape(c));
        }
        h += "</tr></thead><tbody>";
        for r in self.rows.iter().take(SHOWN_ROWS) {
            h += "<tr>";
            for c in r {
                h += &format!("<td>{}</td>", escape(c));
            }
            h += "</tr>";
        }
        h += "</tbody></table>";
        if let Some(hidden) = self.hidden_note() {
            h += &format!("<p>{}</p>", escape(&hidden));
        }
        for n in &self.notes {
            h += &format!("<p>{}</p>", escape(n));
        }
        h + "</div>"
    }

    /// Shows the table as HTML in an evcxr notebook.
    pub fn evcxr_display(&self) {
        emit_html(&self.to_html());
    }
}

impl fmt::Display for Table {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let cols = self.headers.len().max(self.rows.iter().map(Vec::len).max().unwrap_or(0));
        let mut width = vec![0; cols];
        for r in std::iter::once(&self.headers).chain(&self.rows) {
            for (i, c) in r.iter().enumerate() {
                width[i] = width[i].max(c.chars().count());
            }
        }
        if !self.title.is_empty() {
            writeln!(f, "{}", self.title)?;
        }
        let line = |f: &mut fmt::Formatter<'_>, r: &[String]| -> fmt::Result {
            let cells: Vec<String> = (0..cols)
                .map(|i| {
                    let c = r.get(i).map(String::as_str).unwrap_or("");
                    format!("{c}{}", " ".repeat(width[i] - c.chars().count()))
                })
                .collect();
            writeln!(f, "  {}", cells.join("  ").trim_end())
        };
        line(f, &self.headers)?;
        writeln!(f, "  {}", width.iter().map(|w| "-".repeat(*w)).collect::<Vec<_>>().join("  "))?;
        for r in self.rows.iter().take(SHOWN_ROWS) {
            line(f, r)?;
        }
        if let Some(hidden) = self.hidden_note() {
            writeln!(f, "{hidden}")?;
        }
        for n in &self.notes {
            writeln!(f, "{n}")?;
        }
        Ok(())
    }
}

/// The first [`SHOWN_ROWS`] lines of a log, and a line saying how many more there are.
pub(crate) fn shown_log(log: &[String]) -> Vec<String> {
    let mut shown: Vec<String> = log.iter().take(SHOWN_ROWS).cloned().collect();
    if log.len() > SHOWN_ROWS {
        shown.push(format!("... and {} more lines ({} in all)", log.len() - SHOWN_ROWS, log.len()));
    }
    shown
}

/// A result that shows itself as a log and tables: aligned text in a terminal (each
/// implementor's `Display` calls [`Tabular::write_text`]) and HTML under a notebook cell (its
/// `evcxr_display` calls [`Tabular::to_html`]). Reports, statuses and statistics implement it.
pub trait Tabular {
    /// The narration lines shown above the tables (none by default).
    fn log(&self) -> &[String] {
        &[]
    }
    /// The tables.
    fn tables(&self) -> Vec<Table>;
    /// The log and tables as one HTML fragment, text escaped.
    fn to_html(&self) -> String {
        let mut h = String::new();
        if !self.log().is_empty() {
            h += "<pre class=\"distlab-log\">";
            h += &escape(&shown_log(self.log()).join("\n"));
            h += "</pre>";
        }
        for t in self.tables() {
            h += &t.to_html();
        }
        h
    }
    /// Writes the log and tables as text.
    fn write_text(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for line in shown_log(self.log()) {
            writeln!(f, "{line}")?;
        }
        for t in self.tables() {
            write!(f, "{t}")?;
        }
        Ok(())
    }
}

/// Gives each listed [`Tabular`] type `Display` (its text) and `evcxr_display` (its HTML under
/// a notebook cell; evcxr looks for an inherent method of that name).
macro_rules! show_tables {
    ($($t:ty),* $(,)?) => {$(
        impl std::fmt::Display for $t {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                $crate::table::Tabular::write_text(self, f)
            }
        }
        impl $t {
            /// Shows the log and tables as HTML in an evcxr notebook.
            pub fn evcxr_display(&self) {
                $crate::table::emit_html(&$crate::table::Tabular::to_html(self));
            }
        }
    )*};
}
pub(crate) use show_tables;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_is_escaped_and_text_is_aligned() {
        let mut t = Table::new("<b>nodes</b>", ["name", "state"]);
        t.row(["<b>", "up"]).row(["Node-10", "down"]);
        let html = t.to_html();
        assert!(html.contains("&lt;b&gt;nodes&lt;/b&gt;"));
        assert!(html.contains("<td>&lt;b&gt;</td>"));
        assert!(!html.contains("<b>"));
        let text = t.to_string();
        assert!(text.contains("  <b>      up\n"), "{text}");
        assert!(text.contains("  Node-10  down"), "{text}");
    }

    #[test]
    fn long_tables_show_the_first_rows_and_say_how_many_are_hidden() {
        let mut t = Table::new("many", ["i"]);
        for i in 0..1000 {
            t.row([i]);
        }
        let (html, text) = (t.to_html(), t.to_string());
        assert_eq!(html.matches("<tr>").count(), 1 + SHOWN_ROWS);
        assert!(html.contains("... and 800 more rows (1000 in all"), "{html}");
        assert!(text.contains("  199\n") && !text.contains("  200\n") && text.contains("800 more rows"));
        assert_eq!(t.rows.len(), 1000);
    }
}

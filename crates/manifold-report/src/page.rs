//! The HTML shell every report shares: styles, the chart library and the page's
//! scripts inline, and the data as one JSON block the scripts read.

use serde_json::Value;

const UPLOT_JS: &str = include_str!("../vendor/uPlot.iife.min.js");
const UPLOT_CSS: &str = include_str!("../vendor/uPlot.min.css");
const STYLE: &str = include_str!("../web/report.css");
const COMMON: &str = include_str!("../web/common.js");
const REPORT: &str = include_str!("../web/report.js");
const EXPLORER: &str = include_str!("../web/explorer.js");
const COMPARE: &str = include_str!("../web/compare.js");

/// The page scripts a report can carry (after the shared helpers).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Script {
    /// One run: summary, config, curves, pictures.
    Report,
    /// The DNM explorer.
    Explorer,
    /// Several runs side by side.
    Compare,
}

impl Script {
    fn source(self) -> &'static str {
        match self {
            Script::Report => REPORT,
            Script::Explorer => EXPLORER,
            Script::Compare => COMPARE,
        }
    }
}

/// Text safe inside HTML elements and attribute values.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
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

/// JSON safe inside a `<script>` element: no `</` can end the element early.
fn script_json(data: &Value) -> String {
    data.to_string().replace("</", "<\\/")
}

/// A whole page: `title`, `data` for the scripts, and the scripts to run.
pub(crate) fn page(title: &str, data: &Value, scripts: &[Script]) -> String {
    let mut html = String::new();
    html.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    html.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    html.push_str(&format!("<title>{}</title>\n", escape(title)));
    html.push_str("<style>\n");
    html.push_str(UPLOT_CSS);
    html.push('\n');
    html.push_str(STYLE);
    html.push_str("\n</style>\n</head>\n<body>\n<main id=\"report\"></main>\n");
    html.push_str("<script id=\"manifold-data\" type=\"application/json\">");
    html.push_str(&script_json(data));
    html.push_str("</script>\n<script>\n");
    html.push_str(UPLOT_JS);
    html.push_str("\n</script>\n<script>\n");
    html.push_str(COMMON);
    for s in scripts {
        html.push('\n');
        html.push_str(s.source());
    }
    html.push_str("\nrunReport();\n</script>\n</body>\n</html>\n");
    html
}

/// The data a report page carries (the JSON its scripts draw), for tests and tools.
pub fn embedded_data(html: &str) -> Option<Value> {
    let start = html.find("<script id=\"manifold-data\" type=\"application/json\">")?;
    let rest = &html[start..];
    let body = &rest[rest.find('>')? + 1..rest.find("</script>")?];
    serde_json::from_str(body).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_cannot_close_its_script_element() {
        let data = serde_json::json!({"config": "name = \"</script><script>alert(1)</script>\""});
        let html = page("t <b>", &data, &[Script::Report]);
        assert_eq!(
            html.matches("</script>").count(),
            3,
            "data, uPlot, page scripts"
        );
        assert!(html.contains("<title>t &lt;b&gt;</title>"));
        assert_eq!(embedded_data(&html).unwrap(), data);
    }
}

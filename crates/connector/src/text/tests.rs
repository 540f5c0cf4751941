//! Realistic storage bodies and their expected text, written out in full.

use super::*;

fn t(s: &str) -> String {
    storage_to_text(s)
}

#[test]
fn paragraphs_headings_and_entities() {
    let body = "<h1>Deploy&nbsp;guide</h1><p>Step one &mdash; build.</p><p>Caf&eacute; &amp; \
                <strong>bar</strong>&#160;&#x2713;</p>";
    assert_eq!(
        t(body),
        "Deploy guide\nStep one \u{2014} build.\nCafé & bar \u{2713}"
    );
}

#[test]
fn code_macro_keeps_cdata_and_drops_parameters() {
    let body = r#"<p>Run:</p><ac:structured-macro ac:name="code" ac:schema-version="1" ac:macro-id="abc"><ac:parameter ac:name="language">python</ac:parameter><ac:parameter ac:name="linenumbers">true</ac:parameter><ac:plain-text-body><![CDATA[if a > b and c < d:
    print("x & y")
]]></ac:plain-text-body></ac:structured-macro><p>Done.</p>"#;
    assert_eq!(
        t(body),
        "Run:\nif a > b and c < d:\n    print(\"x & y\")\nDone."
    );
}

#[test]
fn code_macro_title_is_kept() {
    let body = r#"<ac:structured-macro ac:name="code"><ac:parameter ac:name="title">setup.sh</ac:parameter><ac:plain-text-body><![CDATA[make]]></ac:plain-text-body></ac:structured-macro>"#;
    assert_eq!(t(body), "setup.sh\nmake");
}

#[test]
fn links_keep_labels_or_titles() {
    let body = r#"<p>See <ac:link><ri:page ri:space-key="ENG" ri:content-title="Runbook"/><ac:plain-text-link-body><![CDATA[the runbook]]></ac:plain-text-link-body></ac:link>, <ac:link ac:anchor="h"><ri:page ri:content-title="Ops &amp; Support"/></ac:link> and <ac:link><ri:page ri:content-title="Ignored"/><ac:link-body>rich <em>label</em></ac:link-body></ac:link>.</p><p><ac:link><ri:attachment ri:filename="plan.pdf"/></ac:link> <a href="https://x.example">site</a></p>"#;
    assert_eq!(
        t(body),
        "See the runbook, Ops & Support and rich label.\nplan.pdf site"
    );
}

#[test]
fn tables_are_cells_per_row() {
    let body = "<table><colgroup><col/><col/></colgroup><tbody>\
                <tr><th><p>Name</p></th><th><p>Owner</p></th></tr>\
                <tr><td><p>API</p><p>v2</p></td><td>Ann</td></tr>\
                <tr><td></td><td>Bob</td></tr></tbody></table><p>After</p>";
    assert_eq!(t(body), "Name | Owner\nAPI v2 | Ann\nBob\nAfter");
}

#[test]
fn panels_and_expand_keep_title_and_body() {
    let body = r#"<ac:structured-macro ac:name="info"><ac:parameter ac:name="icon">true</ac:parameter><ac:parameter ac:name="title">Heads up</ac:parameter><ac:rich-text-body><p>Backups run at 2am.</p></ac:rich-text-body></ac:structured-macro><ac:structured-macro ac:name="expand"><ac:parameter ac:name="title">Details</ac:parameter><ac:rich-text-body><p>Hidden text.</p></ac:rich-text-body></ac:structured-macro><ac:structured-macro ac:name="warning"><ac:rich-text-body><p>Careful</p></ac:rich-text-body></ac:structured-macro><ac:structured-macro ac:name="toc"><ac:parameter ac:name="maxLevel">3</ac:parameter></ac:structured-macro><ac:structured-macro ac:name="status"><ac:parameter ac:name="colour">Green</ac:parameter><ac:parameter ac:name="title">DONE</ac:parameter></ac:structured-macro>"#;
    assert_eq!(
        t(body),
        "Heads up\nBackups run at 2am.\nDetails\nHidden text.\nCareful"
    );
}

#[test]
fn mentions_use_the_resolver_or_fall_back() {
    let body = r#"<p>Ask <ac:link><ri:user ri:account-id="557058:abc"/></ac:link> or <ac:link><ri:user ri:userkey="8a7f"/></ac:link> or <ri:user ri:username="bob"/>.</p>"#;
    assert_eq!(t(body), "Ask 557058:abc or 8a7f or bob .");
    let resolver = |m: &Mention<'_>| match m.account_id {
        Some("557058:abc") => Some("Ann Lee".to_string()),
        _ => None,
    };
    assert_eq!(
        storage_to_text_with(body, &resolver),
        "Ask Ann Lee or 8a7f or bob ."
    );
}

#[test]
fn task_lists() {
    let body = "<ac:task-list><ac:task><ac:task-id>1</ac:task-id><ac:task-uuid>u</ac:task-uuid>\
                <ac:task-status>complete</ac:task-status><ac:task-body>Write docs</ac:task-body></ac:task>\
                <ac:task><ac:task-id>2</ac:task-id><ac:task-status>incomplete</ac:task-status>\
                <ac:task-body><span>Ship <time datetime=\"2024-05-01\"/></span></ac:task-body></ac:task></ac:task-list>";
    assert_eq!(t(body), "[x] Write docs\n[ ] Ship 2024-05-01");
}

#[test]
fn emoticons_images_and_placeholders_are_dropped() {
    let body = r#"<p>Nice <ac:emoticon ac:name="smile" ac:emoji-shortname=":smile:"/> work<ac:image ac:width="200"><ri:attachment ri:filename="chart.png"/></ac:image><ac:image ac:alt="Architecture diagram"><ri:url ri:value="https://x/a.png"/></ac:image></p><p><ac:placeholder>Type here</ac:placeholder></p>"#;
    assert_eq!(t(body), "Nice work Architecture diagram");
}

#[test]
fn layouts_lists_and_breaks() {
    let body = "<ac:layout><ac:layout-section ac:type=\"two_equal\"><ac:layout-cell><ul><li>one</li><li>two<br/>lines</li></ul></ac:layout-cell>\
                <ac:layout-cell><ol><li><p>three</p></li></ol></ac:layout-cell></ac:layout-section></ac:layout>";
    assert_eq!(t(body), "one\ntwo\nlines\nthree");
}

#[test]
fn preformatted_and_noformat() {
    let body = "<pre>  a   b\n  c</pre><ac:structured-macro ac:name=\"noformat\"><ac:plain-text-body><![CDATA[x  y]]></ac:plain-text-body></ac:structured-macro>";
    assert_eq!(t(body), "  a   b\n  c\nx  y");
}

#[test]
fn inline_comment_markers_keep_text() {
    let body = r#"<p>The <ac:inline-comment-marker ac:ref="u-1">quoted part</ac:inline-comment-marker> stays.</p>"#;
    assert_eq!(t(body), "The quoted part stays.");
}

#[test]
fn html_void_elements_without_slash() {
    assert_eq!(t("<p>a<br>b<hr>c</p><p>d</p>"), "a\nb\nc\nd");
}

#[test]
fn malformed_input_never_panics_and_keeps_text() {
    assert_eq!(t(""), "");
    assert_eq!(t("plain text"), "plain text");
    assert_eq!(t("<p>unclosed <b>bold"), "unclosed bold");
    assert_eq!(t("<p>stray</i> end</p>"), "stray end");
    assert_eq!(t("a & b &unknown; c"), "a & b &unknown; c");
    let truncated = r#"<p>Start</p><ac:structured-macro ac:name="code"><ac:plain-text-body><![CDATA[fn main() {"#;
    let out = t(truncated);
    assert!(out.starts_with("Start"), "{out}");
    let garbage = [
        "<",
        "<<>>",
        "<![CDATA[",
        "<!--",
        "</>",
        "<a b='>",
        "<?x",
        "&#xFFFFFFFF;",
        "<ac:link><ri:page",
    ];
    for g in garbage {
        let _ = t(g);
    }
}

#[test]
fn pseudo_random_garbage_never_panics() {
    let pieces = [
        "<p>",
        "</p>",
        "<ac:structured-macro ac:name=\"code\">",
        "</ac:structured-macro>",
        "<ac:parameter ac:name=\"title\">",
        "</ac:parameter>",
        "<![CDATA[",
        "]]>",
        "&nbsp;",
        "&",
        "<",
        ">",
        "text",
        "<ac:link>",
        "</ac:link>",
        "<ri:page ri:content-title=\"x\"/>",
        "<td>",
        "</tr>",
        "<ac:task-status>",
        "\"",
        "'",
        "é",
        "<br>",
        "<!--",
        "-->",
        "<?",
        "?>",
        "<ri:user ri:account-id=\"1\"/>",
        "</",
        "/>",
        "=",
        "\u{0}",
        "<pre>",
        "</pre>",
    ];
    let mut rng = fastrand::Rng::with_seed(7);
    for _ in 0..3000 {
        let n = rng.usize(0..40);
        let s: String = (0..n).map(|_| pieces[rng.usize(0..pieces.len())]).collect();
        let _ = t(&s);
        // Every prefix too (truncated bodies), at char boundaries.
        if let Some((i, _)) = s.char_indices().nth(n / 2) {
            let _ = t(&s[..i]);
        }
    }
}

#[test]
fn include_and_excerpt_include_are_placeholders() {
    let body = r#"<ac:structured-macro ac:name="include" ac:schema-version="1"><ac:parameter ac:name=""><ac:link><ri:page ri:space-key="OPS" ri:content-title="Shared setup"/></ac:link></ac:parameter></ac:structured-macro><ac:structured-macro ac:name="excerpt-include"><ac:parameter ac:name="nopanel">true</ac:parameter><ac:parameter ac:name=""><ac:link><ri:page ri:content-title="Release policy"/></ac:link></ac:parameter></ac:structured-macro><ac:structured-macro ac:name="excerpt"><ac:parameter ac:name="hidden">false</ac:parameter><ac:rich-text-body><p>Short summary.</p></ac:rich-text-body></ac:structured-macro>"#;
    assert_eq!(
        t(body),
        "[include: Shared setup]\n[excerpt from: Release policy]\nShort summary."
    );
}

/// A whole page as Confluence Cloud's editor stores it, and its text written out in full.
#[test]
fn a_realistic_page_snapshot() {
    let body = r#"<ac:layout><ac:layout-section ac:type="two_equal"><ac:layout-cell><h2>Runbook: payments API</h2><p>Owner: <ac:link><ri:user ri:account-id="5b10ac8d82e05b22cc7d4ef5"/></ac:link> &middot; updated <time datetime="2024-03-05"/></p><ac:structured-macro ac:name="info" ac:schema-version="1" ac:macro-id="9d1"><ac:parameter ac:name="title">Before you start</ac:parameter><ac:rich-text-body><p>Read the <ac:link><ri:page ri:content-title="On-call guide"/><ac:plain-text-link-body><![CDATA[on-call guide]]></ac:plain-text-link-body></ac:link> first <ac:emoticon ac:name="smile" ac:emoji-shortname=":slight_smile:" ac:emoji-fallback="🙂"/>.</p></ac:rich-text-body></ac:structured-macro></ac:layout-cell><ac:layout-cell><ac:structured-macro ac:name="toc"><ac:parameter ac:name="maxLevel">2</ac:parameter></ac:structured-macro></ac:layout-cell></ac:layout-section><ac:layout-section ac:type="single"><ac:layout-cell><h3>Restart</h3><ac:structured-macro ac:name="code" ac:schema-version="1"><ac:parameter ac:name="language">bash</ac:parameter><ac:parameter ac:name="theme">Midnight</ac:parameter><ac:plain-text-body><![CDATA[kubectl rollout restart deploy/payments
kubectl rollout status deploy/payments --timeout=5m]]></ac:plain-text-body></ac:structured-macro><ac:task-list><ac:task><ac:task-id>3</ac:task-id><ac:task-status>complete</ac:task-status><ac:task-body>Page the <strong>SRE</strong> channel</ac:task-body></ac:task><ac:task><ac:task-id>4</ac:task-id><ac:task-status>incomplete</ac:task-status><ac:task-body>Check <ac:link><ri:attachment ri:filename="dashboard.png"/></ac:link></ac:task-body></ac:task></ac:task-list><table data-layout="default"><colgroup><col style="width: 200.0px;"/><col/></colgroup><tbody><tr><th><p><strong>Alert</strong></p></th><th><p><strong>Action</strong></p></th></tr><tr><td><p>5xx &gt; 2%</p></td><td><p>Roll back</p></td></tr></tbody></table><ac:structured-macro ac:name="warning"><ac:rich-text-body><p>Never restart during settlement (02:00&ndash;03:00 UTC).</p></ac:rich-text-body></ac:structured-macro><ac:structured-macro ac:name="expand"><ac:parameter ac:name="title">History</ac:parameter><ac:rich-text-body><ul><li><p>2023: moved to Kubernetes</p></li></ul></ac:rich-text-body></ac:structured-macro><ac:structured-macro ac:name="include"><ac:parameter ac:name=""><ac:link><ri:page ri:content-title="Escalation contacts"/></ac:link></ac:parameter></ac:structured-macro></ac:layout-cell></ac:layout-section></ac:layout>"#;
    let resolver = |m: &Mention<'_>| {
        (m.account_id == Some("5b10ac8d82e05b22cc7d4ef5")).then(|| "Priya Raman".to_string())
    };
    assert_eq!(
        storage_to_text_with(body, &resolver),
        "Runbook: payments API\n\
         Owner: Priya Raman \u{b7} updated 2024-03-05\n\
         Before you start\n\
         Read the on-call guide first .\n\
         Restart\n\
         kubectl rollout restart deploy/payments\n\
         kubectl rollout status deploy/payments --timeout=5m\n\
         [x] Page the SRE channel\n\
         [ ] Check dashboard.png\n\
         Alert | Action\n\
         5xx > 2% | Roll back\n\
         Never restart during settlement (02:00\u{2013}03:00 UTC).\n\
         History\n\
         2023: moved to Kubernetes\n\
         [include: Escalation contacts]"
    );
}

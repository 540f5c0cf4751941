// The CQL editor: CodeMirror 6 fed by the engine (tokens for highlighting, completions, and the
// offline validator's problems as lint markers). The engine does the language; this module only
// maps its answers onto CodeMirror.
import { autocompletion, type CompletionContext, type CompletionResult } from "@codemirror/autocomplete";
import { linter, type Diagnostic } from "@codemirror/lint";
import { RangeSetBuilder, StateEffect, StateField, type Extension } from "@codemirror/state";
import { Decoration, EditorView, type DecorationSet } from "@codemirror/view";
import type { Completion, CqlProblem, EditorToken } from "../api/commands";

/** What the editor asks the engine. */
export interface CqlEngine {
  tokens(text: string): Promise<EditorToken[]>;
  problems(text: string): Promise<CqlProblem[]>;
  complete(text: string, cursor: number): Promise<Completion[]>;
}

/** The CSS class of a token kind. */
export function tokenClass(kind: string): string {
  return `cm-cql-${kind}`;
}

/** The engine's problems as CodeMirror diagnostics, clamped to the document. */
export function toDiagnostics(problems: CqlProblem[], length: number): Diagnostic[] {
  return problems.map((p) => {
    let from = Math.min(p.start, length);
    let to = Math.min(Math.max(p.end, p.start), length);
    // A problem at a point (often the end of the query) marks the character before it, so
    // that it is visible.
    if (from === to && from > 0) from -= 1;
    else if (from === to && to < length) to += 1;
    const extra = p.suggestion ? ` Did you mean ${p.suggestion}?` : p.expected.length ? ` Expected ${p.expected.slice(0, 6).join(", ")}.` : "";
    return { from, to, severity: p.severity === "error" ? "error" : "warning", message: `${p.message}${extra}` };
  });
}

const KIND_TYPES: Record<string, string> = {
  field: "property",
  operator: "operator",
  keyword: "keyword",
  function: "function",
  value: "constant",
  space: "namespace",
  label: "text",
};

/** The engine's completions as one CodeMirror result (they share one replaced range). */
export function toCompletionResult(items: Completion[], cursor: number): CompletionResult | null {
  if (items.length === 0) return null;
  return {
    from: Math.min(items[0].start, cursor),
    to: Math.max(items[0].end, cursor),
    options: items.map((c) => ({ label: c.label, apply: c.insert, type: KIND_TYPES[c.kind] ?? "text", detail: c.detail ?? undefined })),
    filter: false,
  };
}

const setTokens = StateEffect.define<DecorationSet>();

const tokenField = StateField.define<DecorationSet>({
  create: () => Decoration.none,
  update(decorations, tr) {
    let next = decorations.map(tr.changes);
    for (const e of tr.effects) if (e.is(setTokens)) next = e.value;
    return next;
  },
  provide: (f) => EditorView.decorations.from(f),
});

function decorate(tokens: EditorToken[], length: number): DecorationSet {
  const builder = new RangeSetBuilder<Decoration>();
  for (const t of tokens) {
    if (t.end > t.start && t.end <= length) builder.add(t.start, t.end, Decoration.mark({ class: tokenClass(t.kind) }));
  }
  return builder.finish();
}

/** The CodeMirror extensions of a CQL editor over `engine`. */
export function cqlExtensions(engine: CqlEngine): Extension[] {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const highlight = (view: EditorView) => {
    clearTimeout(timer);
    timer = setTimeout(async () => {
      const text = view.state.doc.toString();
      const tokens = await engine.tokens(text).catch(() => []);
      if (view.state.doc.toString() === text) view.dispatch({ effects: setTokens.of(decorate(tokens, text.length)) });
    }, 60);
  };
  return [
    tokenField,
    EditorView.updateListener.of((u) => {
      if (u.docChanged) highlight(u.view);
    }),
    EditorView.domEventHandlers({
      focus: (_e, view) => highlight(view),
    }),
    linter(async (view) => {
      const text = view.state.doc.toString();
      return toDiagnostics(await engine.problems(text).catch(() => []), text.length);
    }, { delay: 250 }),
    autocompletion({
      override: [
        async (ctx: CompletionContext) => {
          const text = ctx.state.doc.toString();
          return toCompletionResult(await engine.complete(text, ctx.pos).catch(() => []), ctx.pos);
        },
      ],
      activateOnTyping: true,
    }),
    EditorView.lineWrapping,
  ];
}

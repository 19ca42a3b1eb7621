/// The gallery page around the cards: markup, style and script, self-contained (no network).
///
/// Without JavaScript the page shows every card, most ambiguous first, at its natural size.
/// The script adds the controls: sort (margin, agreement, source), filters (wrong only, a
/// class, a pair), grouping by pair and zoom. Its state lives in the URL's fragment
/// (`index.html#wrong&pair=4,9&group`), so a view can be shared or opened by a test; a query
/// (`?sort=source`) is read too. It reads sidecar text only through `dataset` and writes it
/// only through `textContent`, never as markup.
extension Gallery {
  /// The whole page.
  /// - Parameters:
  ///   - cards: Card markup (`Card.markup`), in the order shown without JavaScript.
  ///   - figureWidth: The widest figure in pixels: the grid's column width at 100 %.
  ///   - skipped: Lines of the skipped-files lists, unescaped.
  static func page(cards: [String], figureWidth: Int, skipped: [String]) -> String {
    let skippedList =
      skipped.isEmpty
      ? ""
      : """
      <section id="skipped"><h2>Skipped files</h2><ul>\(skipped.map { "<li>\(escape($0))</li>" }.joined())</ul></section>
      """
    return """
      <!doctype html>
      <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
      <title>Glimpse explanations</title>
      <style>:root{--fw:\(figureWidth)px}\(style)</style></head>
      <body data-zoom="100">
      <header><h1>Glimpse explanations</h1>
      <p>\(cards.count) explanations. Green regions support the class, red ones speak against it; each picture links to its PNG, and a JSON sidecar with the same name holds the numbers.</p>
      <noscript><p>Sorting and filtering need JavaScript; every explanation is shown, most ambiguous (smallest margin) first.</p></noscript>
      \(controls)
      </header>
      <main><div id="cards" class="grid">
      \(cards.joined(separator: "\n"))
      </div>
      \(skippedList)
      </main>
      <script>\(script)</script>
      </body></html>

      """
  }

  /// The controls, hidden until the script shows them (they do nothing without it).
  static let controls = #"""
    <form id="controls" hidden>
    <label>Sort <select name="sort"><option value="margin">margin (most ambiguous first)</option><option value="agreement">segmenter agreement (lowest first)</option><option value="source">source (A to Z)</option></select></label>
    <label><input type="checkbox" name="desc"> reverse</label>
    <label><input type="checkbox" name="wrong"> wrong only</label>
    <label>Class <select name="class"><option value="">any</option></select></label>
    <label>Pair <input type="text" name="pair" list="pairs" placeholder="e.g. 4,9" size="10" autocomplete="off"></label>
    <datalist id="pairs"></datalist>
    <label><input type="checkbox" name="group"> group by pair</label>
    <label>Zoom <select name="zoom"><option value="fit">fit width</option><option value="50">50 %</option><option value="100">100 %</option><option value="200">200 %</option></select></label>
    <output id="count" aria-live="polite"></output>
    </form>
    """#

  /// The page's style. `--z` is the zoom; `--w` and `--h` (on each card) its figure's natural
  /// size. Cards off screen are not drawn (`content-visibility`) but keep an estimated size, so
  /// re-sorting 1000 cards lays out only the visible ones: 25 ms instead of 120 ms in headless
  /// Chromium.
  static let style = #"""
    *{box-sizing:border-box}
    body{--z:1;margin:0;font:15px/1.45 "DejaVu Sans",system-ui,sans-serif;background:#f2f3f5;color:#1f2328}
    body[data-zoom="50"]{--z:.5}
    body[data-zoom="200"]{--z:2}
    header{position:sticky;top:0;z-index:1;background:#fff;border-bottom:1px solid #d0d7de;padding:12px 24px;box-shadow:0 1px 4px rgba(0,0,0,.08)}
    h1{font-size:20px;margin:0 0 2px}
    header p{margin:0;color:#57606a;font-size:13px}
    #controls{display:flex;flex-wrap:wrap;gap:8px 18px;align-items:center;margin-top:10px;font-size:14px}
    #controls[hidden]{display:none}
    #controls label{display:inline-flex;gap:6px;align-items:center;white-space:nowrap}
    select,input[type=text]{font:inherit;padding:3px 6px;border:1px solid #8c959f;border-radius:6px;background:#fff;color:inherit}
    input[aria-invalid=true]{border-color:#cf222e;background:#ffebe9}
    #count{margin-left:auto;font-weight:600}
    main{padding:16px 24px 40px}
    .grid{display:grid;gap:16px;align-items:start;justify-content:start;grid-template-columns:repeat(auto-fill,min(100%,calc(var(--fw)*var(--z) + 26px)))}
    body[data-zoom="fit"] .grid{grid-template-columns:1fr}
    .card{margin:0;min-width:0;background:#fff;border:1px solid #d0d7de;border-radius:8px;padding:12px;content-visibility:auto;contain-intrinsic-size:auto calc(var(--w,560px)*var(--z) + 26px) auto calc(var(--h,560px)*var(--z) + 100px)}
    .card.wrong{border-left:5px solid #cf222e;padding-left:8px}
    .pic{overflow-x:auto}
    .pic img{display:block;width:calc(var(--w)*var(--z));max-width:none;height:auto}
    body[data-zoom="fit"] .pic img{width:100%}
    body[data-zoom="200"] .pic img{image-rendering:pixelated}
    figcaption{margin-bottom:8px;display:flex;flex-wrap:wrap;gap:2px 12px;align-items:baseline}
    .pair{font-size:17px}
    .meta{color:#57606a;font-size:14px}
    .tag{background:#ffebe9;color:#cf222e;border-radius:10px;padding:0 8px;font-size:13px;font-weight:600}
    code.src{flex-basis:100%;font-size:12px;color:#57606a;overflow-wrap:anywhere}
    section.group{margin-bottom:28px}
    section h2{font-size:18px;margin:8px 0 10px}
    section h2 small{font-weight:normal;color:#57606a;font-size:14px;margin-left:10px}
    #empty{color:#57606a}
    #skipped{margin-top:32px}
    #skipped li{font-family:monospace;overflow-wrap:anywhere}
    """#

  /// The page's script: reads the cards once, then on every change filters, sorts and (when
  /// grouping) splits them into sections, moving the existing elements in one
  /// `replaceChildren` so a change costs one layout however many cards there are.
  static let script = #"""
    "use strict";
    (() => {
      const form = document.getElementById("controls");
      const root = document.getElementById("cards");
      const count = document.getElementById("count");
      const collator = new Intl.Collator(undefined, {numeric: true});
      const number = text => text === undefined || text === "" ? NaN : Number(text);
      // "4, 9" and "4,9" name the same pair; names may hold commas (ImageNet's do), so a
      // pair is matched as a whole text, in either order, not split.
      const normal = text => text.split(",").map(s => s.trim()).join(",");
      const pairText = (a, b) => normal(a + "," + b);
      const cards = Array.from(root.querySelectorAll(".card"), (el, i) => {
        const d = el.dataset;
        const pair = collator.compare(d.first, d.second) <= 0 ? [d.first, d.second] : [d.second, d.first];
        return {el, i, first: d.first, second: d.second, truth: d.truth, source: d.source,
                wrong: d.wrong === "1", margin: number(d.margin), agreement: number(d.agreement),
                pair, key: pair.join("\u0000"), texts: [pairText(d.first, d.second), pairText(d.second, d.first)]};
      });

      const defaults = {sort: "margin", desc: false, wrong: false, class: "", pair: "", group: false, zoom: "100"};
      const choices = {sort: ["margin", "agreement", "source"], zoom: ["fit", "50", "100", "200"]};
      const readURL = () => {
        const state = {...defaults};
        for (const params of [new URLSearchParams(location.search), new URLSearchParams(location.hash.slice(1))]) {
          for (const [key, value] of params) {
            if (!Object.hasOwn(defaults, key)) continue;
            if (typeof defaults[key] === "boolean") state[key] = value !== "0" && value !== "false";
            else if (!choices[key] || choices[key].includes(value)) state[key] = value;
          }
        }
        return state;
      };
      const writeURL = state => {
        // `#wrong&pair=4,9`: a switch that is on is its bare name; commas stay readable.
        const hash = Object.keys(defaults).filter(key => state[key] !== defaults[key])
          .map(key => state[key] === true ? key : key + "=" + encodeURIComponent(state[key]).replace(/%2C/gi, ","))
          .join("&");
        // The fragment holds the whole state, so a query the page was opened with is dropped.
        history.replaceState(null, "", location.pathname + (hash ? "#" + hash : ""));
      };

      // Choices for the class menu and the pair suggestions, with counts.
      const classes = new Map(), pairs = new Map();
      for (const c of cards) {
        for (const name of new Set([c.first, c.second, c.truth])) {
          if (name !== undefined) classes.set(name, (classes.get(name) || 0) + 1);
        }
        const p = pairs.get(c.key) || {pair: c.pair, n: 0};
        p.n += 1;
        pairs.set(c.key, p);
      }
      const addClass = (name, n) => form.elements.class.add(new Option(n === undefined ? name : name + " (" + n + ")", name));
      for (const name of [...classes.keys()].sort(collator.compare)) addClass(name, classes.get(name));
      const list = document.getElementById("pairs");
      for (const p of [...pairs.values()].sort((a, b) => b.n - a.n)) {
        list.append(new Option(p.n + " cards", p.pair.join(",")));
      }

      const numeric = key => (a, b) => {
        const x = a[key], y = b[key];
        if (Number.isNaN(x) || Number.isNaN(y)) return Number.isNaN(x) - Number.isNaN(y);
        return (x - y) * direction;
      };
      const compare = {
        margin: numeric("margin"),
        agreement: numeric("agreement"),
        source: (a, b) => collator.compare(a.source, b.source) * direction,
      };
      let direction = 1;

      const grid = cards => {
        const div = document.createElement("div");
        div.className = "grid";
        div.append(...cards.map(c => c.el));
        return div;
      };

      const render = state => {
        document.body.dataset.zoom = state.zoom;
        const wanted = normal(state.pair);
        // A pair no card has is marked (a typo shows as such, not as an empty page alone).
        form.elements.pair.setAttribute("aria-invalid", String(wanted !== "" && !cards.some(c => c.texts.includes(wanted))));
        const shown = cards.filter(c =>
          (!state.wrong || c.wrong) &&
          (!state.class || c.first === state.class || c.second === state.class || c.truth === state.class) &&
          (!wanted || c.texts.includes(wanted)));
        direction = state.desc ? -1 : 1;
        shown.sort((a, b) => compare[state.sort](a, b) || a.i - b.i);
        const parts = [];
        if (state.group) {
          const groups = new Map();
          for (const c of shown) {
            if (!groups.has(c.key)) groups.set(c.key, []);
            groups.get(c.key).push(c);
          }
          const ordered = [...groups.values()].sort((a, b) => b.length - a.length || collator.compare(a[0].key, b[0].key));
          for (const group of ordered) {
            const section = document.createElement("section");
            section.className = "group";
            const title = document.createElement("h2");
            const note = document.createElement("small");
            const wrong = group.filter(c => c.wrong).length;
            title.textContent = group[0].pair[0] + " and " + group[0].pair[1];
            note.textContent = group.length + (group.length === 1 ? " explanation" : " explanations") + (wrong ? ", " + wrong + " wrong" : "");
            title.append(note);
            section.append(title, grid(group));
            parts.push(section);
          }
        } else if (shown.length) {
          parts.push(grid(shown));
        }
        if (!shown.length) {
          const empty = document.createElement("p");
          empty.id = "empty";
          empty.textContent = "No explanation matches these filters.";
          parts.push(empty);
        }
        root.className = "";
        root.replaceChildren(...parts);
        count.textContent = "showing " + shown.length + " of " + cards.length;
      };

      const show = state => {
        if (state.class && !classes.has(state.class)) addClass(state.class);
        for (const key in defaults) {
          const control = form.elements[key];
          if (control.type === "checkbox") control.checked = state[key];
          else control.value = state[key];
        }
        render(state);
      };
      const readForm = () => {
        const state = {};
        for (const key in defaults) {
          const control = form.elements[key];
          state[key] = control.type === "checkbox" ? control.checked : control.value;
        }
        return state;
      };
      const changed = () => {
        const state = readForm();
        writeURL(state);
        render(state);
      };
      form.addEventListener("input", changed);
      form.addEventListener("change", changed);
      form.addEventListener("submit", event => event.preventDefault());
      window.addEventListener("hashchange", () => show(readURL()));
      form.hidden = false;
      show(readURL());
    })();
    """#
}

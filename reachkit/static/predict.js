// reachkit "predict, then see" question (anywidget ES module, no build step, no CDN).
// The check runs here, so a page with no kernel (an export, the course site) checks answers too.
// Every text the author wrote goes in as textContent: shown as written, never parsed or executed.
// Traits: reachkit/questions.py (Prediction).

// The rule, as Prediction.accepts states it in Python: the chosen option is the answer's, or
// |x - answer| <= tolerance for a numeric question.
export function accepts(q, value) {
  if (q.options.length) return value === q.options[q.answer];
  return Number.isFinite(value) && Math.abs(value - q.answer) <= q.tolerance;
}

// A typed number: "0.05", "5e-2", " -1 " (and a decimal comma, "0,05"); null for anything else.
export function parseNumber(text) {
  const t = String(text).trim().replace(/^([+-]?\d*),(\d+)$/, "$1.$2");
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(t)) return null;
  const x = Number(t);
  return Number.isFinite(x) ? x : null;
}

const el_ = (tag, cls, attrs = {}) => {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  return e;
};
let uid = 0;

function render({ model, el }) {
  const q = () => ({ options: model.get("options"), answer: model.get("answer"),
                     tolerance: model.get("tolerance") });
  const id = `rk-q${++uid}`;
  const root = el_("div", "rk-predict");
  const form = el_("fieldset", "rk-predict-body");
  const legend = el_("legend", "rk-predict-question", { id: `${id}-q` });
  legend.textContent = model.get("question");
  form.append(legend);

  let read;  // () => the student's answer, or null with a reason in `problem`
  let problem = "";
  if (model.get("options").length) {
    const radios = model.get("options").map((text, i) => {
      const label = el_("label", "rk-predict-option");
      const input = el_("input", "", { type: "radio", name: id, value: String(i) });
      const span = el_("span");
      span.textContent = text;
      label.append(input, span);
      form.append(label);
      return input;
    });
    read = () => {
      const k = radios.findIndex((r) => r.checked);
      problem = k < 0 ? "Choose one of the options first." : "";
      return k < 0 ? null : model.get("options")[k];
    };
  } else {
    const label = el_("label", "rk-predict-number");
    const caption = el_("span");
    caption.textContent = "Your answer";
    const box = el_("input", "", { type: "text", inputmode: "decimal", autocomplete: "off",
                                   spellcheck: "false", "aria-describedby": `${id}-hint` });
    label.append(caption, box);
    const unit = model.get("unit");
    if (unit) {
      const u = el_("span", "rk-predict-unit");
      u.textContent = unit;
      label.append(u);
    }
    form.append(label);
    const hint = el_("div", "rk-predict-hint", { id: `${id}-hint` });
    hint.textContent = model.get("hint");
    form.append(hint);
    box.addEventListener("keydown", (e) => { if (e.key === "Enter") { e.preventDefault(); check(); } });
    read = () => {
      const x = parseNumber(box.value);
      problem = x === null ? `Type a number (for example 0.05)${box.value.trim() ? `; "${box.value.trim()}" is not one` : ""}.` : "";
      return x;
    };
  }

  const button = el_("button", "rk-predict-check", { type: "button" });
  button.textContent = "Check";
  const feedback = el_("div", "rk-predict-feedback", { role: "status", "aria-live": "polite" });
  const explanation = el_("details", "rk-predict-explanation");
  const summary = el_("summary");
  summary.textContent = "Explanation";
  const because = el_("div");
  because.textContent = model.get("explanation");
  explanation.append(summary, because);
  explanation.hidden = true;
  root.append(form, button, feedback, explanation);

  function say(kind, words) {
    root.dataset.verdict = kind;
    feedback.textContent = words;
  }

  function check() {
    const value = read();
    if (value === null) { say("invalid", problem); return; }
    const right = accepts(q(), value);
    const n = model.get("attempts") + 1;
    if (right) {
      say("right", "✓ Right.");
    } else {
      let more = "";
      if (!model.get("options").length) more = value > model.get("answer") ? " Your number is too high." : " Your number is too low.";
      say("wrong", `✗ Not quite.${more} Try again, or open the explanation.`);
    }
    explanation.hidden = !model.get("explanation");
    explanation.open = right;
    model.set({ answered: true, attempts: n, correct: right });
    try { model.save_changes(); } catch (e) { /* a page with no kernel: the answer stays in the page */ }
  }
  button.addEventListener("click", check);
  // keys on the radios, the box and the button are ours: JupyterLab's command mode would take the
  // arrows (to move between cells) and Enter; combinations (Shift+Enter runs the cell) pass through
  root.addEventListener("keydown", (ev) => {
    if (!ev.ctrlKey && !ev.metaKey && !ev.altKey && !ev.shiftKey) ev.stopPropagation();
  });

  const style = () => root.classList.toggle("rk-lecture", model.get("lecture"));
  style();
  model.on("change:lecture", style);
  model.on("change:answered", () => {  // reset() from Python asks again
    if (!model.get("answered")) { say("", ""); explanation.hidden = true; }
  });
  el.append(root);
  return () => { model.off("change:lecture", style); };
}

export default { render };

// A YAML editor: a textarea with line numbers, lines with a problem
// marked, and a way to select a line.

export class Editor {
  constructor({ readOnly, onInput }) {
    this.gutter = document.createElement('div');
    this.gutter.className = 'gutter';
    this.gutter.setAttribute('aria-hidden', 'true');
    this.area = document.createElement('textarea');
    this.area.id = 'config-text';
    this.area.spellcheck = false;
    this.area.wrap = 'off';
    this.area.readOnly = readOnly;
    this.area.setAttribute('aria-label', 'Region config (YAML)');
    this.el = document.createElement('div');
    this.el.className = 'editor';
    this.el.append(this.gutter, this.area);
    this.marks = new Map();
    this.area.addEventListener('scroll', () => { this.gutter.scrollTop = this.area.scrollTop; });
    this.area.addEventListener('input', () => { this.numbers(); onInput(); });
  }

  get text() { return this.area.value; }

  set text(t) {
    this.area.value = t;
    this.numbers();
  }

  // mark flags lines with problems: a map of line -> message.
  mark(marks) {
    this.marks = marks;
    this.numbers();
  }

  numbers() {
    const n = this.area.value.split('\n').length;
    const lines = [];
    for (let i = 1; i <= n; i++) {
      const line = document.createElement('div');
      line.textContent = String(i);
      if (this.marks.has(i)) {
        line.className = 'bad';
        line.title = this.marks.get(i);
      }
      lines.push(line);
    }
    this.gutter.replaceChildren(...lines);
    this.gutter.scrollTop = this.area.scrollTop;
  }

  // select selects line n (from 1) and scrolls it into view.
  select(n) {
    const lines = this.area.value.split('\n');
    const line = Math.min(Math.max(n, 1), lines.length);
    let start = 0;
    for (let i = 0; i < line - 1; i++) start += lines[i].length + 1;
    this.area.focus();
    this.area.setSelectionRange(start, start + lines[line - 1].length);
    const height = parseFloat(getComputedStyle(this.area).lineHeight) || 18;
    this.area.scrollTop = Math.max(0, (line - 5) * height);
  }
}

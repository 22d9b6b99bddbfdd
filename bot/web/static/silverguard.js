// The senior page (bot/web/senior.py builds its markup). Everything a senior in trouble needs runs
// here from what came with the page: the emergency card, text size, read-aloud, the idle notice and
// 考考我. The server is asked only for answers (/chat) and to keep "有用/没用" (/feedback).
// Every message is put on the page as text (textContent), never as HTML: nothing in a bubble is a link.
(function () {
  "use strict";
  const FONT = "sg-font", RATE = "sg-rate";
  const SIZES = [20, 24, 30, 36];  // 30 px two taps from the start, 36 px three
  const RATES = {"慢": 0.7, "正常": 0.9, "快": 1.1};
  const SLOW_MS = 5000;
  // Words that say the money or a code has already gone: with the server unreachable the page
  // shows the card itself (the server's own rules decide when it answers).
  const URGENT = /(转|汇|打|付)了.{0,6}(钱|万|千|块|元)|已经(转|汇|付|给)|被骗了|骗走|验证码.{0,6}(告诉|给|说)(了|过)|屏幕共享/;
  const IDLE_GRACE_S = 30;
  const TEXT = {
    waiting: "正在帮您查…",
    slow: "问的人有点多，我还在帮您查，请再等一下。",
    offline: "现在连不上网点的服务器，您的问题没有发出去，还留在下面的输入框里，过一会儿再点“发送”。" +
      "着急的话，请点上面红色的“我可能被骗了”，或者直接问网点的工作人员。",
    noVoice: "这台设备没有中文朗读的声音，暂时不能朗读。请网点工作人员在设备的" +
      "“设置 → 辅助功能 → 文字转语音”里装上中文（普通话）语音。",
    useful: "这个回答有用吗？",
    thanks: "谢谢您告诉我们。",
    thanksBad: "谢谢您，我们会改进。哪里不对？（可以不选）",
  };
  let D = null, app = null, chat = null, box = null, send = null;
  let asked = [];  // the senior's questions so far (the server reads the last one for context)
  let busy = false, seq = 0, idleTimer = null, idleTick = null;
  const session = "sg" + Math.random().toString(36).slice(2, 12);

  const $ = (sel, root) => (root || document).querySelector(sel);
  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text !== undefined) { e.textContent = text; }
    return e;
  }
  function button(text, cls) { const b = el("button", "sg-btn " + (cls || ""), text); b.type = "button"; return b; }

  // ------------------------------------------------------------ text size
  function sizeIndex() {
    const px = parseInt(localStorage.getItem(FONT) || "20", 10);
    let i = SIZES.findIndex((s) => s >= px);
    return i < 0 ? SIZES.length - 1 : i;
  }
  function applySize(i) {
    const px = SIZES[Math.max(0, Math.min(SIZES.length - 1, i))];
    document.documentElement.style.setProperty("--sg-font", px + "px");
    localStorage.setItem(FONT, String(px));
    const smaller = $("#sg-smaller"), bigger = $("#sg-bigger");
    if (smaller) { smaller.setAttribute("aria-disabled", String(px <= SIZES[0])); }
    if (bigger) { bigger.setAttribute("aria-disabled", String(px >= SIZES[SIZES.length - 1])); }
  }
  window.sgFont = function (step) { applySize(sizeIndex() + (step > 0 ? 1 : -1)); return []; };

  // ------------------------------------------------------------ read-aloud
  let voices = [];
  function zhVoice() {
    if (!("speechSynthesis" in window)) { return null; }
    voices = window.speechSynthesis.getVoices() || [];
    return voices.find((v) => /^zh|cmn/i.test(v.lang || "")) || null;
  }
  function say(msg) {
    const v = $("#sg-voice");
    if (!v) { return; }
    v.hidden = !msg; v.textContent = msg || "";
  }
  function rateLabel() { const r = localStorage.getItem(RATE); return RATES[r] ? r : "正常"; }
  function showRate() {
    const now = rateLabel();
    app.querySelectorAll("[data-rate]").forEach((b) => b.setAttribute("aria-pressed", String(b.dataset.rate === now)));
  }
  window.sgRate = function (label) { if (RATES[label]) { localStorage.setItem(RATE, label); } showRate(); return []; };
  function stopSpeaking() {
    if ("speechSynthesis" in window) { window.speechSynthesis.cancel(); }
    const stop = $("#sg-stop"); if (stop) { stop.hidden = true; }
  }
  window.sgSpeak = function (text) {
    const voice = zhVoice();
    if (!voice) { say(TEXT.noVoice); return false; }
    say("");
    window.speechSynthesis.cancel();
    const u = new SpeechSynthesisUtterance(text.replace(/来自课程：/g, "这段内容来自课程"));
    u.lang = voice.lang || "zh-CN"; u.rate = RATES[rateLabel()];
    try { u.voice = voice; } catch (e) { /* the lang alone picks a Chinese voice */ }
    const stop = $("#sg-stop");
    u.onend = u.onerror = function () { if (stop) { stop.hidden = true; } };
    if (stop) { stop.hidden = false; }
    window.speechSynthesis.speak(u);
    return true;
  };

  // ------------------------------------------------------------ messages
  function scrollToStart(node) {
    // The first line of the newest message, not the bottom of the log.
    chat.scrollTop = Math.max(0, node.offsetTop - chat.offsetTop - 8);
  }
  function addMessage(who, text, cls) {
    const m = el("div", "sg-msg sg-" + who + (cls ? " " + cls : ""));
    const body = el("div", "sg-text", text);
    m.appendChild(body);
    chat.appendChild(m);
    return m;
  }
  function speakButton(m) {
    const b = button("🔊 朗读这条", "sg-speak");
    b.setAttribute("aria-label", "朗读这条回答");
    b.addEventListener("click", function () {
      const parts = [...m.querySelectorAll(".sg-level, .sg-scan-h, .sg-scan-msg, .sg-reasons li, .sg-text")];
      window.sgSpeak(parts.map((p) => p.textContent.replace(/[①-⑳]/g, "")).join("\n"));
    });
    return b;
  }
  function phones(wrap) {
    D.card.phones.forEach(function (p) {
      const a = el("a", "sg-tel", p[1]);
      a.href = "tel:" + p[0];
      wrap.appendChild(a);
    });
  }
  function showCard() {
    // The red button's card: always one, always the newest message, with tap-to-call buttons.
    closeQuiz();
    let card = $("#sg-card");
    if (!card) {
      card = el("section", "sg-msg sg-card");
      card.id = "sg-card";
      card.setAttribute("aria-labelledby", "sg-card-h");
      const h = el("h2", "", D.card.heading); h.id = "sg-card-h"; h.tabIndex = -1;
      card.appendChild(h);
      const calls = el("div", "sg-calls"); phones(calls); card.appendChild(calls);
      const ol = el("ol");
      D.card.steps.forEach((s) => ol.appendChild(el("li", "", s)));
      card.appendChild(ol);
    }
    chat.appendChild(card);  // moved to the end if it was already there
    scrollToStart(card);
    $("#sg-card-h").focus({preventScroll: true});
    touch();
  }

  function feedbackRow(m, question, lesson) {
    const key = session + "-" + (++seq);
    const row = el("div", "sg-fb");
    row.setAttribute("role", "group");
    row.setAttribute("aria-label", TEXT.useful);
    const q = el("p", "sg-fb-q", TEXT.useful);
    const yes = button("👍 有用", "sg-fb-yes"), no = button("👎 没用", "sg-fb-no");
    const store = (useful, reason) => post("feedback", [key, question, lesson, useful, reason || ""]).catch(() => {});
    yes.addEventListener("click", function () { store(true); row.replaceChildren(el("p", "sg-fb-q", TEXT.thanks)); });
    no.addEventListener("click", function () {
      store(false);
      const list = el("div", "sg-fb-why");
      D.reasons.forEach(function (r) {
        const b = button(r);
        b.addEventListener("click", function () { store(false, r); row.replaceChildren(el("p", "sg-fb-q", TEXT.thanks)); });
        list.appendChild(b);
      });
      row.replaceChildren(el("p", "sg-fb-q", TEXT.thanksBad), list);
    });
    row.append(q, yes, no);
    m.appendChild(row);
  }

  // ------------------------------------------------------------ the server
  function root() { return ((window.gradio_config && window.gradio_config.root) || location.origin).replace(/\/$/, ""); }
  async function post(name, data) {
    const r = await fetch(root() + "/gradio_api/call/" + name, {
      method: "POST", headers: {"Content-Type": "application/json"},
      body: JSON.stringify({data: data, session_hash: session}),
    });
    let body = null;
    try { body = await r.json(); } catch (e) { body = null; }
    if (!r.ok) { const err = new Error("refused"); err.detail = body && body.detail; err.status = r.status; throw err; }
    return body;
  }
  async function stream(name, data, onData) {
    const {event_id} = await post(name, data);
    const r = await fetch(root() + "/gradio_api/call/" + name + "/" + event_id);
    if (!r.ok || !r.body) { throw new Error("stream " + r.status); }
    const reader = r.body.getReader(), dec = new TextDecoder();
    let buf = "", event = "", last = null;
    for (;;) {
      const {value, done} = await reader.read();
      if (done) { break; }
      buf += dec.decode(value, {stream: true});
      let nl;
      while ((nl = buf.indexOf("\n")) >= 0) {
        const line = buf.slice(0, nl).trim(); buf = buf.slice(nl + 1);
        if (line.startsWith("event:")) { event = line.slice(6).trim(); }
        else if (line.startsWith("data:")) {
          if (event === "error") { throw new Error("server error"); }
          let out = null;
          try { out = JSON.parse(line.slice(5)); } catch (e) { out = null; }
          if (out && out[0]) { last = out[0]; onData(last); }
        }
      }
    }
    if (!last || !last.done) { throw new Error("the stream ended early"); }
    return last;
  }
  function offline(show) {
    const o = $("#sg-offline");
    o.hidden = !show; o.textContent = show ? TEXT.offline : "";
  }
  function setBusy(on) {
    busy = on;
    send.disabled = on;
    send.textContent = on ? "稍等…" : "发送";
    send.setAttribute("aria-label", on ? "正在查，请稍等" : "发送");
  }

  async function ask(question) {
    question = (question || "").trim();
    if (!question || busy) { return; }
    closeQuiz();
    touch();
    offline(false); say("");
    const mine = addMessage("user", question);
    const reply = addMessage("bot", TEXT.waiting, "sg-waiting");
    reply.setAttribute("aria-busy", "true");
    scrollToStart(mine);
    box.value = ""; box.style.height = "";
    setBusy(true);
    const slow = setTimeout(function () { if (reply.classList.contains("sg-waiting")) { $(".sg-text", reply).textContent = TEXT.slow; } }, SLOW_MS);
    let started = false;
    try {
      const last = await stream("chat", [question, asked.slice(-6)], function (out) {
        if (!out.text) { return; }
        $(".sg-text", reply).textContent = out.text;
        if (!started) { started = true; reply.classList.remove("sg-waiting"); scrollToStart(reply); }
      });
      asked.push(question);
      reply.classList.remove("sg-waiting");
      reply.removeAttribute("aria-busy");
      $(".sg-text", reply).textContent = last.text;
      if (last.emergency) {
        reply.classList.add("sg-urgent");
        const calls = el("div", "sg-calls"); phones(calls); reply.insertBefore(calls, reply.firstChild);
      }
      if (last.scan) { showScan(reply, last.scan); }
      reply.appendChild(speakButton(reply));
      if (last.kind && last.kind !== "throttled") { feedbackRow(reply, question, last.lesson || ""); }
      scrollToStart(reply);
    } catch (err) {
      if (err && err.detail) {  // turned away at the door (too fast, too long): say it calmly
        reply.classList.remove("sg-waiting"); reply.removeAttribute("aria-busy");
        $(".sg-text", reply).textContent = err.detail;
        box.value = question;
      } else if (started) {  // the reply was cut off: keep what came, say so
        reply.removeAttribute("aria-busy");
        offline(true); box.value = question;
      } else {
        mine.remove(); reply.remove();
        box.value = question;
        offline(true);
        if (URGENT.test(question)) { showCard(); }
      }
    } finally {
      clearTimeout(slow);
      setBusy(false);
      touch();
    }
  }

  // A pasted message's check (Answer.scan): the level first, the message with its numbered marks,
  // then one reason a mark, laid out for 36 px. The reply's text already says all of this in lines
  // ("这条消息：…", "消息原文…：…〔①〕…", "① …"); those lines move into the block, the rest stays.
  const NUMS = "①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮⑯⑰⑱⑲⑳";
  function showScan(reply, scan) {
    const textEl = $(".sg-text", reply);
    const lines = textEl.textContent.split("\n");
    const block = el("section", "sg-scan sg-risk-" + (scan.risk || "medium"));
    block.setAttribute("aria-label", "这条消息的检查结果");
    block.appendChild(el("p", "sg-level", "这条消息：" + (scan.risk_text || "")));
    const flags = scan.flags || [];
    const at = lines.findIndex((l) => l.startsWith("消息原文"));
    if (at >= 0) {
      const line = lines[at], cut = line.indexOf("：");
      block.appendChild(el("p", "sg-scan-h", line.slice(0, cut + 1)));
      const quote = el("blockquote", "sg-scan-msg");
      const parts = line.slice(cut + 1).trim().split(/〔([①-⑳])〕/);
      for (let i = 0; i < parts.length; i += 2) {
        let seg = parts[i];
        const num = parts[i + 1];
        if (num) {
          const flag = flags[NUMS.indexOf(num)];
          const ev = flag && flag.evidence;
          if (ev && seg.endsWith(ev)) {
            quote.append(document.createTextNode(seg.slice(0, seg.length - ev.length)), el("mark", "", ev));
            seg = "";
          }
          if (seg) { quote.append(document.createTextNode(seg)); }
          const n = el("span", "sg-num", num); n.setAttribute("aria-label", "第" + (NUMS.indexOf(num) + 1) + "处");
          quote.append(n);
        } else if (seg) { quote.append(document.createTextNode(seg)); }
      }
      block.appendChild(quote);
    }
    if (flags.length) {
      const list = el("ul", "sg-reasons");
      flags.forEach(function (f, i) {
        const li = el("li");
        li.append(el("strong", "", (NUMS[i] || "") + " " + f.label + "："), document.createTextNode(f.explain));
        list.appendChild(li);
      });
      block.appendChild(list);
    }
    const rest = lines.filter((l, i) => !(i === at || (i === 0 && l.startsWith("这条消息")) || (flags.length && NUMS.includes(l.charAt(0)))));
    textEl.textContent = rest.join("\n");
    reply.insertBefore(block, textEl);
  }

  // ------------------------------------------------------------ 考考我
  let quiz = null;
  function shuffle(a) { for (let i = a.length - 1; i > 0; i--) { const j = Math.floor(Math.random() * (i + 1)); [a[i], a[j]] = [a[j], a[i]]; } return a; }
  function pickRound() {
    const scams = shuffle(D.quiz.filter((q) => q.scam)), real = shuffle(D.quiz.filter((q) => !q.scam));
    const nReal = 1 + Math.floor(Math.random() * 2);  // one or two genuine messages in five
    return shuffle(real.slice(0, nReal).concat(scams.slice(0, 5 - nReal)));
  }
  function openQuiz() {
    stopSpeaking();
    quiz = {items: pickRound(), i: 0, right: 0};
    chat.hidden = true; $("#sg-form").hidden = true;
    $("#sg-quiz").hidden = false;
    quizStep();
    touch();
  }
  function closeQuiz() {
    if (!quiz && $("#sg-quiz").hidden) { return; }
    quiz = null;
    $("#sg-quiz").hidden = true; $("#sg-quiz").replaceChildren();
    chat.hidden = false; $("#sg-form").hidden = false;
  }
  function quizStep() {
    const panel = $("#sg-quiz");
    panel.replaceChildren();
    if (quiz.i >= quiz.items.length) {
      const n = quiz.items.length;
      const h = el("h2", "", "练完了！"); h.tabIndex = -1;
      const words = quiz.right === n ? "全都答对了，真棒！" : quiz.right >= 3 ? "答得很好！" : "没关系，多练几次就熟了。";
      panel.append(h, el("p", "sg-score", "您答对了 " + quiz.right + " 题（共 " + n + " 题）。" + words),
        el("p", "", "记住：拿不准的时候，先别急着做，打官方电话或者问问家里人、网点工作人员。"));
      const again = button("再来一轮", "sg-primary"), back = button("回到对话");
      again.addEventListener("click", openQuiz);
      back.addEventListener("click", function () { closeQuiz(); box.focus(); });
      panel.append(el("div", "sg-row")); panel.lastChild.append(again, back);
      h.focus();
      return;
    }
    const item = quiz.items[quiz.i];
    const h = el("h2", "", "第 " + (quiz.i + 1) + " 题（共 " + quiz.items.length + " 题）：这是骗局吗？"); h.tabIndex = -1;
    const text = el("blockquote", "sg-quiz-text", item.text);
    const row = el("div", "sg-row sg-quiz-choices");
    const yes = button("是骗局", "sg-quiz-yes"), no = button("不是骗局", "sg-quiz-no");
    function answer(saysScam) {
      const right = saysScam === item.scam;
      if (right) { quiz.right += 1; }
      yes.disabled = no.disabled = true;
      (saysScam ? yes : no).setAttribute("aria-pressed", "true");
      const fb = el("div", "sg-quiz-fb " + (right ? "sg-right" : "sg-wrong"));
      fb.setAttribute("role", "status");
      fb.append(el("p", "sg-verdict", (right ? "✅ 答对了！" : "再想想：") + (item.scam ? "这是骗局。" : "这不是骗局。")),
        el("p", "", item.reason));
      if (item.title) { fb.append(el("p", "sg-from", "来自课程：《" + item.title + "》")); }
      const next = button(quiz.i + 1 < quiz.items.length ? "下一题" : "看看成绩", "sg-primary sg-quiz-next");
      next.addEventListener("click", function () { quiz.i += 1; quizStep(); });
      fb.append(next);
      panel.append(fb);
      next.focus();
      touch();
    }
    yes.addEventListener("click", () => answer(true));
    no.addEventListener("click", () => answer(false));
    row.append(yes, no);
    const leave = button("不练了，回到对话", "sg-quiz-leave");
    leave.addEventListener("click", function () { closeQuiz(); box.focus(); });
    panel.append(h, text, row, leave);
    h.focus();
  }

  // ------------------------------------------------------------ shared tablet
  function hasSomething() { return chat.querySelectorAll(".sg-msg:not(.sg-hello)").length > 0 || !!quiz || box.value.trim() !== ""; }
  function wipe() {
    stopSpeaking(); closeQuiz();
    chat.querySelectorAll(".sg-msg:not(.sg-hello)").forEach((m) => m.remove());
    asked = []; box.value = ""; box.style.height = ""; offline(false); say("");
    chat.scrollTop = 0;
    const d1 = $("#sg-idle"), d2 = $("#sg-confirm");
    [d1, d2].forEach((d) => { if (d.open) { d.close(); } });
    clearInterval(idleTick);
    touch();
  }
  function touch() {
    clearTimeout(idleTimer);
    const minutes = Number(D && D.idleMinutes) || 5;
    idleTimer = setTimeout(idleNotice, minutes * 60000);
  }
  function idleNotice() {
    if (!hasSomething()) { touch(); return; }
    const d = $("#sg-idle");
    let left = IDLE_GRACE_S;
    $("#sg-idle-left").textContent = String(left);
    if (!d.open) { d.showModal(); }
    clearInterval(idleTick);
    idleTick = setInterval(function () {
      left -= 1;
      $("#sg-idle-left").textContent = String(Math.max(0, left));
      if (left <= 0) { wipe(); }
    }, 1000);
  }

  // ------------------------------------------------------------ start
  function init(found) {
    app = found;
    D = JSON.parse(app.dataset.sg);
    chat = $("#sg-chat"); box = $("#sg-box"); send = $("#sg-send");
    applySize(sizeIndex());
    showRate();
    $("#sg-smaller").addEventListener("click", () => window.sgFont(-1));
    $("#sg-bigger").addEventListener("click", () => window.sgFont(1));
    $("#sg-emergency").addEventListener("click", showCard);
    $("#sg-form").addEventListener("submit", function (e) { e.preventDefault(); ask(box.value); });
    box.addEventListener("keydown", function (e) {
      // Enter sends, Shift+Enter is a new line; Enter that picks a pinyin candidate does neither.
      if (e.key === "Enter" && !e.shiftKey && !e.isComposing && e.keyCode !== 229) { e.preventDefault(); ask(box.value); }
    });
    box.addEventListener("input", function () {
      // Grow with the text up to three lines (one line to start with on a phone).
      box.style.height = "";
      const line = parseFloat(getComputedStyle(box).lineHeight) || 32;
      if (box.scrollHeight > box.clientHeight) { box.style.height = Math.min(box.scrollHeight + 4, line * 3 + 24) + "px"; }
    });
    app.querySelectorAll(".sg-q").forEach((b) => b.addEventListener("click", () => ask(b.dataset.q)));
    app.querySelectorAll("[data-rate]").forEach((b) => b.addEventListener("click", () => window.sgRate(b.dataset.rate)));
    $("#sg-stop").addEventListener("click", stopSpeaking);
    $("#sg-quiz-open").addEventListener("click", openQuiz);
    $("#sg-new").addEventListener("click", function () { if (hasSomething()) { $("#sg-confirm").showModal(); } else { wipe(); } });
    $("#sg-confirm").addEventListener("click", function (e) {
      const act = e.target.dataset && e.target.dataset.do;
      if (act === "wipe") { wipe(); box.focus(); } else if (act === "keep") { $("#sg-confirm").close(); }
    });
    $("#sg-idle").addEventListener("click", function (e) {
      const act = e.target.dataset && e.target.dataset.do;
      if (act === "wipe") { wipe(); } else if (act === "stay") { clearInterval(idleTick); $("#sg-idle").close(); touch(); }
    });
    $("#sg-idle").addEventListener("cancel", function () { clearInterval(idleTick); touch(); });  // Escape = keep going
    ["pointerdown", "keydown", "input", "scroll"].forEach((ev) => app.addEventListener(ev, touch, {passive: true, capture: true}));
    if ("speechSynthesis" in window) { window.speechSynthesis.onvoiceschanged = zhVoice; zhVoice(); }
    // A phone's one-line box shows only the start of the long example.
    const fit = function () {
      const chars = (box.clientWidth - 28) / parseFloat(getComputedStyle(box).fontSize);
      box.placeholder = chars >= 2 * LONG_HINT.length / (box.rows || 2) ? LONG_HINT : chars >= 7 ? "在这里打字提问" : "打字提问";
    };
    const LONG_HINT = box.placeholder;
    fit(); window.addEventListener("resize", fit);
    new MutationObserver(fit).observe(document.documentElement, {attributes: true, attributeFilter: ["style"]});
    touch();
    app.dataset.ready = "1";
  }
  function wait() {
    // Gradio draws the page after load: start when the senior page's markup appears.
    const look = function () {
      const found = document.getElementById("sg-app");
      if (found && !found.dataset.ready) { init(found); }
      return !!found;
    };
    if (look()) { return; }
    const watch = new MutationObserver(function () { if (look()) { watch.disconnect(); } });
    watch.observe(document.body, {childList: true, subtree: true});
    setTimeout(() => watch.disconnect(), 60000);  // the staff pages have no senior page
  }
  // Text size applies before the page is drawn (no jump), on the staff pages too.
  const saved = parseInt(localStorage.getItem(FONT) || "20", 10);
  document.documentElement.style.setProperty("--sg-font", (SIZES.includes(saved) ? saved : 20) + "px");
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", wait); } else { wait(); }
})();

// Font size (A-/A+) and read-aloud live in the browser: remembered on the device, no server call.
(function () {
  const KEY = "sg-font", RATE = "sg-rate";
  function apply(px) { document.documentElement.style.setProperty("--sg-font", px + "px"); }
  window.sgFont = function (step) {
    let px = parseInt(localStorage.getItem(KEY) || "20", 10) + step;
    px = Math.max(20, Math.min(36, px));
    localStorage.setItem(KEY, String(px)); apply(px); return [];
  };
  window.sgRate = function (label) {
    const rate = {"慢": 0.7, "正常": 0.9, "快": 1.1}[label] || 0.9;
    localStorage.setItem(RATE, String(rate)); return [];
  };
  window.sgSpeak = function (text) {
    if (!("speechSynthesis" in window)) { return; }
    window.speechSynthesis.cancel();
    const u = new SpeechSynthesisUtterance(text.replace(/来自课程：/g, "这段内容来自课程"));
    u.lang = "zh-CN"; u.rate = parseFloat(localStorage.getItem(RATE) || "0.9");
    window.speechSynthesis.speak(u);
  };
  function addSpeakButtons() {
    document.querySelectorAll("#sg-chat .message.bot, #sg-chat [data-testid='bot']").forEach(function (m) {
      if (m.querySelector(".sg-speak") || m.closest(".sg-has-speak")) { return; }
      const b = document.createElement("button");
      b.className = "sg-speak"; b.type = "button"; b.textContent = "🔊 朗读";
      b.setAttribute("aria-label", "朗读这条回答");
      b.addEventListener("click", function (e) {
        e.stopPropagation();
        const clone = m.cloneNode(true);
        clone.querySelectorAll(".sg-speak").forEach(function (x) { x.remove(); });
        sgSpeak(clone.innerText);
      });
      m.classList.add("sg-has-speak"); m.appendChild(b);
    });
  }
  function init() {
    apply(parseInt(localStorage.getItem(KEY) || "20", 10));
    new MutationObserver(addSpeakButtons).observe(document.body, {childList: true, subtree: true});
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", init); }
  else { init(); }
})();

/*
 * board_style.c - the board's one stylesheet, served as /board/style.css.
 *
 * Kept in the binary so the board needs no files installed next to it, and
 * served from the board's own origin so the Content-Security-Policy can
 * allow styles from 'self' and nothing inline.  Readable on a phone: one
 * column below 700 px, wide tables scroll inside their box.
 */
#include "collabd/webboard.h"

const char board_stylesheet[] =
	":root{--fg:#1f2329;--muted:#646a73;--line:#dee0e3;--bg:#f5f6f7;--card:#fff;--accent:#3370ff;"
	"--ok:#2ea121;--warn:#de7802;--bad:#d83931;--badbg:#fdecec}\n"
	"*{box-sizing:border-box}\n"
	"a{color:var(--accent);text-decoration:none}a:hover{text-decoration:underline}\n"
	"body{margin:0;font:15px/1.55 -apple-system,\"PingFang SC\",\"Noto Sans CJK SC\",\"Microsoft YaHei\",sans-serif;"
	"color:var(--fg);background:var(--bg)}\n"
	"header.top{display:flex;flex-wrap:wrap;align-items:center;gap:.5em 1.5em;padding:.7em 1em;background:#fff;"
	"border-bottom:1px solid var(--line)}\n"
	".brand{font-weight:600;color:var(--fg);text-decoration:none}\n"
	"nav a{margin-right:1em;color:var(--muted);text-decoration:none}nav a.on{color:var(--accent);font-weight:600}\n"
	".now{margin-left:auto;color:var(--muted);font-size:.85em}\n"
	"main{max-width:1200px;margin:0 auto;padding:1em}\n"
	"h1.req{font-size:1.3em;margin:.3em 0}h1 .id{color:var(--muted);font-weight:400}\n"
	"h2{font-size:1.1em;margin:1.4em 0 .6em}h3{font-size:1em;margin:0 0 .3em}\n"
	".count{display:inline-block;min-width:1.6em;padding:0 .4em;border-radius:1em;background:var(--line);"
	"text-align:center;font-size:.85em}\n"
	".summary{margin:.2em 0 1em;color:var(--muted)}\n"
	".cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(330px,1fr));gap:.8em}\n"
	".card{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:.8em 1em}\n"
	".card.overdue{border-color:var(--bad);border-left:5px solid var(--bad);background:var(--badbg)}\n"
	".card a{color:var(--accent);text-decoration:none}\n"
	".meta{color:var(--muted);font-size:.88em;margin:.2em 0 .6em}\n"
	".badge{display:inline-block;padding:0 .5em;border-radius:4px;background:var(--line);font-size:.8em;"
	"font-weight:400;vertical-align:middle}\n"
	"table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:.3em .5em;border-bottom:1px solid var(--line);"
	"vertical-align:top}\nth{color:var(--muted);font-weight:500;font-size:.88em}\n"
	"table.depts td small,table.list td small{display:block;color:var(--muted);font-size:.8em}\n"
	"tr.overdue td{background:var(--badbg)}\n"
	".s-ok,.p-ok{color:var(--ok)}.s-waiting,.p-waiting{color:var(--warn)}.s-objected,.p-missed,.p-late{color:var(--bad)}\n"
	".p-none{color:var(--muted)}\n"
	".sev-urgent{color:var(--bad);font-weight:600}\n"
	".due{color:var(--muted);font-size:.85em;margin-left:.3em}\n"
	".overdue-tag{color:var(--bad);font-weight:600;margin-left:.3em}\n"
	".badge.overdue-tag{background:var(--bad);color:#fff}\n"
	"ul.deadlines{margin:.6em 0 0;padding-left:1.1em;font-size:.9em}ul.deadlines li.overdue{color:var(--bad)}\n"
	".scroll{overflow-x:auto;background:var(--card);border:1px solid var(--line);border-radius:8px}\n"
	"td.text{white-space:pre-wrap;min-width:10em;max-width:28em}\n"
	"dl.form{display:grid;grid-template-columns:max-content 1fr;gap:.3em 1em;background:var(--card);"
	"border:1px solid var(--line);border-radius:8px;padding:.8em 1em;margin:0}\n"
	"dl.form dt{color:var(--muted)}dl.form dd{margin:0;white-space:pre-wrap}\n"
	"ol.timeline{list-style:none;padding:0;margin:0;background:var(--card);border:1px solid var(--line);border-radius:8px}\n"
	"ol.timeline li{padding:.35em 1em;border-bottom:1px solid var(--line)}ol.timeline time{color:var(--muted);"
	"font-size:.85em;margin-right:.5em}\nol.timeline small{color:var(--muted)}\n"
	".empty{color:var(--muted)}\ncode{font-size:.85em}\n"
	"footer{color:var(--muted);font-size:.8em;text-align:center;padding:2em 1em}\n"
	"@media (max-width:700px){.cards{grid-template-columns:1fr}dl.form{grid-template-columns:1fr}"
	"dl.form dd{margin-bottom:.5em}main{padding:.6em}.now{margin-left:0}}\n";

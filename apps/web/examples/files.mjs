// What the package ships: the built dashboard, ready to be served under a strict CSP
// (`script-src 'self'; style-src 'self'`): index.html loads its code and styles from assets/ only.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { distDir } from "@agentmux/web";

const html = readFileSync(join(distDir, "index.html"), "utf8");
const inline = /<script(?![^>]*\bsrc=)[^>]*>|<style\b|\sstyle="/.test(html);
const assets = readdirSync(join(distDir, "assets"));
console.log(`dashboard: index.html + ${assets.length} assets (${assets.map((a) => a.split(".").pop()).join(", ")})`);
console.log(`inline script or style: ${inline ? "yes" : "none"}`);

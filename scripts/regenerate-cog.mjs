#!/usr/bin/env node
// Regenerates the compact COG extract in crates/territory/data/ from the npm package
// @etalab/decoupage-administratif (data under Licence Ouverte 2.0, Etalab).
// Usage: npm ci && node scripts/regenerate-cog.mjs
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const src = join(root, "node_modules/@etalab/decoupage-administratif/data");
const out = join(root, "crates/territory/data");
const load = (name) => JSON.parse(readFileSync(join(src, name), "utf8"));
const pkg = JSON.parse(readFileSync(join(src, "../package.json"), "utf8"));

const field = (value) => {
  const s = value === undefined || value === null ? "" : String(value);
  if (s.includes("\n")) throw new Error(`unexpected line break in ${s}`);
  return /[;"]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
};
const write = (name, header, rows) => {
  const lines = [header.join(";"), ...rows.map((r) => r.map(field).join(";"))];
  writeFileSync(join(out, name), lines.join("\n") + "\n");
  console.log(`${name}: ${rows.length} lignes`);
};

const epciOf = new Map();
const epci = load("epci.json");
for (const e of epci) for (const m of e.membres) epciOf.set(m.code, e.code);

const communes = load("communes.json");
const current = new Set();
const rows = [];
for (const c of communes) {
  if (c.type !== "commune-actuelle" && c.type !== "arrondissement-municipal") continue;
  current.add(c.code);
  rows.push([c.code, c.nom, c.type === "commune-actuelle" ? "COM" : "ARM", c.departement,
    c.type === "commune-actuelle" ? "" : c.commune, epciOf.get(c.code) ?? epciOf.get(c.commune) ?? "",
    (c.codesPostaux ?? []).join(" "), c.population ?? ""]);
}
// Former communes (déléguées, associées) keep a code of their own in old files and addresses:
// they are kept, pointing to the current commune, when their code is not a current one.
for (const c of communes) {
  if (c.type !== "commune-deleguee" && c.type !== "commune-associee") continue;
  if (current.has(c.code)) continue;
  current.add(c.code);
  rows.push([c.code, c.nom, c.type === "commune-deleguee" ? "COMD" : "COMA", c.departement,
    c.chefLieu, epciOf.get(c.chefLieu) ?? "", "", ""]);
}
rows.sort((a, b) => a[0].localeCompare(b[0]));
write("communes.csv", ["code", "nom", "type", "departement", "parent", "epci", "codes_postaux", "population"], rows);
write("epci.csv", ["siren", "nom", "type"], epci.map((e) => [e.code, e.nom, e.type]).sort((a, b) => a[0].localeCompare(b[0])));
write("departements.csv", ["code", "nom", "region"], load("departements.json").map((d) => [d.code, d.nom, d.region]));
writeFileSync(join(out, "SOURCE.md"),
  `# Source\n\nExtrait compact du Code officiel géographique, généré par \`scripts/regenerate-cog.mjs\` à partir du paquet npm\n` +
  `\`@etalab/decoupage-administratif\` version ${pkg.version} (données sous Licence Ouverte 2.0, Etalab / INSEE).\n\n` +
  `- \`communes.csv\` : communes actuelles (COM), arrondissements municipaux (ARM), anciennes communes déléguées (COMD) et associées (COMA) dont le code n'est plus celui d'une commune actuelle ; \`parent\` est la commune de rattachement ; \`codes_postaux\` séparés par des espaces.\n` +
  `- \`epci.csv\` : établissements publics de coopération intercommunale (SIREN, nom, type).\n` +
  `- \`departements.csv\` : départements (code, nom, région).\n`);

// Checks Workflows webhook payloads with Microsoft's Adaptive Cards renderer (npm `adaptivecards`,
// installed by scripts/install-tools into .tools/adaptivecards).
//
//   node standins/adaptivecards-check.js < cards.json
//
// stdin: a JSON object {name: payload} of what the app would POST to a Teams Workflows webhook.
// stdout: a JSON object {name: [problem, ...]}; an empty list means the card is clean. A problem is
// any event the library logs while parsing the card for Adaptive Cards 1.4 (unknown element,
// property newer than 1.4, invalid value, ...), any event of card.validateProperties() under a
// Teams-like host config (card version above 1.4, too many actions, ...), any property the library
// does not know (it drops them silently, so they are found by comparing the card with what it
// serializes back), and an envelope that is not {"type": "message", "attachments": [one card]}.
//
// A card may say version 1.5 only to carry Teams charts (CARD_VERSION=1.5): the library does
// not know Teams' Chart.* elements, so each is checked for its shape (a title, series of
// {legend, values: [{x, y: number}]}) and a fallback, then replaced by that fallback, and the
// card is checked as 1.4 like any other: a client without charts sees exactly that card.
"use strict";

const fs = require("fs");
const path = require("path");

const root = path.resolve(__dirname, "..");
const AC = require(path.join(root, ".tools/adaptivecards/node_modules/adaptivecards/dist/adaptivecards.js"));
const hostConfig = JSON.parse(fs.readFileSync(path.join(__dirname, "teams-host-config.json"), "utf8"));

const TARGET = AC.Versions.v1_4; // the newest version every Teams client renders
// Teams reads these on the card itself; the renderer does not know them.
const HOST_EXTENSIONS = new Set(["msteams"]);

function checkEnvelope(payload) {
  const problems = [];
  if (payload === null || typeof payload !== "object" || payload.type !== "message") {
    return { problems: ['the payload is not {"type": "message", ...}'], card: undefined };
  }
  const extra = Object.keys(payload).filter((k) => k !== "type" && k !== "attachments");
  if (extra.length) problems.push(`unexpected envelope keys: ${extra.join(", ")}`);
  const attachments = payload.attachments;
  if (!Array.isArray(attachments) || attachments.length !== 1) {
    problems.push("the payload must carry exactly one attachment");
    return { problems, card: undefined };
  }
  const [attachment] = attachments;
  if (attachment.contentType !== "application/vnd.microsoft.card.adaptive") {
    problems.push(`attachment contentType is ${JSON.stringify(attachment.contentType)}`);
  }
  return { problems, card: attachment.content };
}

// Keys of `source` that the renderer dropped when serializing the parsed card back: properties
// it does not know. Values that equal a property's default are dropped too, and reported as well
// (writing a default is noise on a card that must stay small).
function droppedKeys(source, parsed, where, out) {
  if (Array.isArray(source)) {
    const back = Array.isArray(parsed) ? parsed : [];
    if (back.length !== source.length) {
      out.push(`${where}: ${source.length} items, the renderer kept ${back.length}`);
    }
    source.forEach((item, i) => droppedKeys(item, back[i], `${where}[${i}]`, out));
    return;
  }
  if (source === null || typeof source !== "object") return;
  const back = parsed !== null && typeof parsed === "object" ? parsed : {};
  for (const key of Object.keys(source)) {
    if (where === "card" && HOST_EXTENSIONS.has(key)) continue;
    if (!(key in back)) {
      out.push(`${where}.${key}: unknown to the renderer (or a default value), dropped`);
    } else {
      droppedKeys(source[key], back[key], `${where}.${key}`, out);
    }
  }
}

const CHARTS = new Set(["Chart.Line"]);

// The card with each chart replaced by its fallback; what is wrong with a chart goes to `out`.
function withoutCharts(node, where, out) {
  if (Array.isArray(node)) return node.map((item, i) => withoutCharts(item, `${where}[${i}]`, out));
  if (node === null || typeof node !== "object") return node;
  if (CHARTS.has(node.type)) {
    const series = Array.isArray(node.data) ? node.data : [];
    if (!series.length) out.push(`${where}: a ${node.type} without data`);
    series.forEach((s, i) => {
      const values = s && Array.isArray(s.values) ? s.values : [];
      if (typeof s.legend !== "string" || !values.length) {
        out.push(`${where}.data[${i}]: a series needs a legend and values`);
      }
      if (values.some((v) => typeof v.y !== "number" || !("x" in v))) {
        out.push(`${where}.data[${i}]: every value needs an x and a numeric y`);
      }
    });
    if (node.fallback === null || typeof node.fallback !== "object") {
      out.push(`${where}: a ${node.type} needs a fallback element for clients without charts`);
      return undefined;
    }
    return withoutCharts(node.fallback, `${where}.fallback`, out);
  }
  const copy = {};
  for (const [key, value] of Object.entries(node)) {
    const checked = withoutCharts(value, `${where}.${key}`, out);
    if (checked !== undefined) copy[key] = checked;
  }
  if (Array.isArray(copy.body)) copy.body = copy.body.filter((item) => item !== undefined);
  return copy;
}

function checkCard(source) {
  const problems = [];
  if (source === null || typeof source !== "object") return ["the attachment has no card"];
  let json = source;
  if (source.version === "1.5") {
    const charts = [];
    json = { ...withoutCharts(source, "card", charts), version: "1.4" };
    problems.push(...charts);
    if (JSON.stringify(json) === JSON.stringify({ ...source, version: "1.4" })) {
      problems.push("card version 1.5 is not 1.4 or older, and it carries no chart");
    }
  }
  const version = AC.Version.parse(json.version, new AC.SerializationContext(TARGET));
  if (!version || !version.isValid || version.compareTo(TARGET) > 0) {
    problems.push(`card version ${JSON.stringify(json.version)} is not 1.4 or older`);
  }
  const card = new AC.AdaptiveCard();
  card.hostConfig = new AC.HostConfig(hostConfig);
  card.maxVersion = TARGET;
  const context = new AC.SerializationContext(TARGET);
  card.parse(json, context);
  for (let i = 0; i < context.eventCount; i++) {
    const event = context.getEventAt(i);
    problems.push(`parse: ${AC.ValidationEvent[event.event]}: ${event.message}`);
  }
  for (const event of card.validateProperties().validationEvents) {
    problems.push(`validate: ${AC.ValidationEvent[event.event]}: ${event.message}`);
  }
  droppedKeys(json, card.toJSON(new AC.SerializationContext(TARGET)), "card", problems);
  return problems;
}

function main() {
  const payloads = JSON.parse(fs.readFileSync(0, "utf8"));
  const report = {};
  for (const [name, payload] of Object.entries(payloads)) {
    const { problems, card } = checkEnvelope(payload);
    report[name] = card === undefined ? problems : problems.concat(checkCard(card));
  }
  process.stdout.write(JSON.stringify(report));
}

main();

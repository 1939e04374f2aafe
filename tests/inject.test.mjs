// The reader of a plain page start in src/edge/inject.js (`plainStart`): the branding goes
// where the rewriter would put it when it says yes, which a browser's tree builder (parse5's)
// makes document.head, and anything it is not sure of goes to the rewriter (a <head> that is
// not the document's among them). Pure logic, run natively under node; tests/branding.test.mjs
// runs the same pages (and those it refuses) through the Worker on the real stack.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parse } from 'parse5';
import { plainStart } from '../src/edge/inject.js';

const start = (text) => plainStart(new Uint8Array(Buffer.from(text)));

/**
 * The parent of `<style id="tenant-brand">` inserted at byte `at` of `text`, as a browser's tree
 * builder (parse5's) places it, with the UTF-8 decoder's byte order mark left out: `head` when it
 * is document.head.
 */
function blockParent(text, at) {
  const bytes = Buffer.from(text);
  const page = Buffer.concat([bytes.subarray(0, at), Buffer.from('<style id="tenant-brand"></style>'), bytes.subarray(at)]);
  const document = parse(new TextDecoder().decode(page));
  const head = document.childNodes.find((n) => n.nodeName === 'html').childNodes.find((n) => n.nodeName === 'head');
  const find = (node) => {
    if (node.attrs?.some((a) => a.name === 'id' && a.value === 'tenant-brand')) return node;
    for (const child of [...(node.childNodes ?? []), ...(node.content ? [node.content] : [])]) {
      const found = find(child);
      if (found) return found;
    }
    return null;
  };
  const parent = find(document)?.parentNode;
  return parent === head ? 'head' : parent?.nodeName;
}

/** `text` with `|` where the block goes and `^` where "<html" starts (both removed; offsets in UTF-8 bytes). */
function expect(marked) {
  const offset = (mark, other) => {
    const text = marked.replace(other, '');
    return text.includes(mark) ? Buffer.byteLength(text.slice(0, text.indexOf(mark))) : -1;
  };
  return { text: marked.replace('^', '').replace('|', ''), want: { html: offset('^', '|'), at: offset('|', '^') } };
}

describe('a plain start: the block goes right after the <head> tag', () => {
  const pages = [
    '<!doctype html>^<html lang="en"><head>|<meta charset="utf-8">',
    '<!DOCTYPE html>\n^<HTML LANG="EN">\n<HEAD>|\n<TITLE>',
    '\ufeff<!doctype html>^<html><head>|',
    '  \r\n\t\f^<html><head>|',
    '<head>|<title>no html tag</title>',
    '<!doctype html PUBLIC "-//W3C//DTD XHTML 1.0 Strict//EN" "x.dtd">^<html xmlns="http://www.w3.org/1999/xhtml" xml:lang="en"><head>|',
    '^<html\n  lang=\'en\'\n  class=js\n  hidden\n  data-x="a > b"\n><head data-y="1" >|',
    '^<html data-x="<head>" data-y=\'<!--\'><head>|<!-- <head> -->',
    '^<html lang=en-GB><head class=x:y.z_1>|',
    '^<html a="" b><head>|',
  ];
  for (const marked of pages) {
    const { text, want } = expect(marked);
    test(JSON.stringify(text), () => {
      assert.deepEqual(start(text), want);
      assert.equal(blockParent(text, want.at), 'head', 'a browser puts the block in document.head');
    });
  }
});

describe('anything else goes to the rewriter', () => {
  const pages = {
    'a comment before <head>': '<!doctype html><html><!-- x --><head>',
    'a comment before <html>': '<!-- x --><html><head>',
    'text before <head>': '<html>x<head>',
    'a script before <head>': '<html><script>"<head>"</script><head>',
    'no <head>': '<!doctype html><html><body>',
    '<header>, not <head>': '<html><header>',
    '<htmlx>, not <html>': '<htmlx><head>',
    'spaces around "="': '<html lang = "en"><head>',
    'a self-closing slash': '<html lang="en"/><head>',
    'no space between attributes': '<html a=""b><head>',
    'a stray quote': '<html a"b><head>',
    'a "<" in an unquoted value': '<html a=b<c><head>',
    'a doctype with no space': '<!doctypehtml><html><head>',
    'a ">" in a quoted doctype string (it ends the doctype there)': '<!doctype html "a > b"><html><head>',
    'the <head> tag not ended yet': '<!doctype html><html lang="en"><head',
    'a quoted value not closed yet': '<!doctype html><html lang="en',
    'a doctype not ended yet': '<!doctype html',
    'a UTF-16 byte order mark': '\ufffe<html><head>',
    'two <html> tags': '<html><html><head>',
    // A <head> anywhere but first is not the document's (issue 24): a browser ignores it.
    'a <head> inside <template>': '<!doctype html><html><template><head>',
    'a <head> inside <svg>': '<!doctype html><html><svg><head>',
    'a <head> inside <math>': '<!doctype html><html><math><head>',
    'a <head> inside <select>': '<!doctype html><html><select><head>',
    'a <head> inside <noscript>': '<!doctype html><html><noscript><head>',
    'a stray end tag before <head>': '<!doctype html><html></br><head>',
    'a <title> before <head>': '<!doctype html><html><title>t</title><head>',
    // Only letters fold to lowercase: 0x1C is not "<", 0x01 not "!" (0x1C | 0x20 is "<").
    'a 0x1C byte where "<" of <head> would be': '\x1chead>',
    'a 0x1C byte where "<" of <html> would be': '\x1chtml><head>',
    'a 0x01 byte where "!" of <!doctype would be': '<\x01doctype html><html><head>',
    empty: '',
  };
  for (const [name, text] of Object.entries(pages)) {
    test(name, () => assert.equal(start(text), null));
  }
});

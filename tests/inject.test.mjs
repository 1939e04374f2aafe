// The reader of a plain page start in src/edge/inject.js (`plainStart`): the branding goes
// where the rewriter would put it when it says yes, and anything it is not sure of goes to the
// rewriter. Pure logic, run natively under node; tests/branding.test.mjs runs the same pages
// (and those it refuses) through the Worker on the real stack.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { plainStart } from '../src/edge/inject.js';

const start = (text) => plainStart(new Uint8Array(Buffer.from(text)));

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
    test(JSON.stringify(text), () => assert.deepEqual(start(text), want));
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
    'empty': '',
  };
  for (const [name, text] of Object.entries(pages)) {
    test(name, () => assert.equal(start(text), null));
  }
});

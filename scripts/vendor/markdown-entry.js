// What assets/markdown.js imports: a Markdown renderer and the sanitizer its HTML always
// passes through before it reaches the page. Bundled into assets/vendor/markdown.js.
export { Marked } from 'marked';
export { default as DOMPurify } from 'dompurify';

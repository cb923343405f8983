; JSX for streams.extract (capture names: streams/languages/__init__.py): node types only the
; javascript and tsx grammars have, so the languages that parse JSX inherit it.

[(jsx_element) (jsx_self_closing_element)] @idiom.jsx

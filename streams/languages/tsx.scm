; inherits: typescript, jsx
; TSX is TypeScript with JSX: the same definitions, parsed by the tsx grammar.

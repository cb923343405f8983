; inherits: ecmascript, jsx
; JavaScript is the shared ECMAScript query plus JSX (`.jsx` files use the same grammar) and the
; decorators of a method, which the JavaScript grammar puts inside it (TypeScript's before it).

(class_body
  (method_definition
    decorator: (decorator) @decorator) @definition.method)

// Lets TypeScript accept `import "./styles.css"` (Vite bundles it into its own file).
/// <reference types="vite/client" />

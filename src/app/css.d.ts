/** Style sheets are imported for their side effect; webpack (experiments.css) emits them as files. */
declare module '*.css';

/** onnxruntime-web's JSEP build (dist/ort.min.mjs), a name the browser bundlers alias (workers/engine/ort.ts). */
declare module 'onnxruntime-web-jsep' {
  export * from 'onnxruntime-web';
}

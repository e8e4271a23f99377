declare const __SRV_VERSION__: string;
declare const __BUILD_TIME__: string;

/** srv's version: `package.json`'s, set at build time (tsup.config.ts). */
export const SRV_VERSION: string = __SRV_VERSION__;
/** When this build was made (RFC 3339). */
export const BUILD_TIME: string = __BUILD_TIME__;

/** The built dashboard (`index.html` and `assets/`), for a server to serve: srv does. */
export declare const distDir: string;

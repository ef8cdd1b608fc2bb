function n(){throw new Error("notebox bundles no encrypted SQLite")}export{n as default};

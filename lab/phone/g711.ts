// G.711 for the lab phone (./rtp-phone.ts): the product's codec (agent/g711.ts), one definition.
export * from '../../agent/g711.js';

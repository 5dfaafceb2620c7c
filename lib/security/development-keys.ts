// DEVELOPMENT ONLY. These private keys are public: they are committed so that `npm start` and a
// fresh clone work with no setup. Anyone can sign tokens with them, so production refuses them
// (lib/security/keys.ts lists them among the published keys) and starts only with keys from `npm run keys`.
// One per token issuer (lib/security/keys.ts's Issuer); spelled out so that this file imports nothing.
export const DEVELOPMENT_PRIVATE_KEYS: { users: string; orders: string } = {
  users:
    '{"kty":"OKP","crv":"Ed25519","kid":"-HUYPEMpU2fGo7WALgHU1dmKlSKpiBNLeAh3q-mG77g","x":"wn5V3yRGrz_rqdl-nc2wqhdXlF5iLa3Lodj4rlphgJc","d":"EtY4YwaeUhUFyNZS0TLVW7VWPj9i0mNnbP-2GunzC9U"}',
  orders:
    '{"kty":"OKP","crv":"Ed25519","kid":"L3kcgTI8yteKu0od4O9hUMJ4S5HE7XIyalwhpxH6Ioc","x":"i4nV7rcZ1uxXT4mvadViTPc4dmDIlACa6jqbGgKmizQ","d":"rmb1tjs9r27_I-ERDXjOGZkVHV67YiZCz1oNrf4HRh0"}',
};

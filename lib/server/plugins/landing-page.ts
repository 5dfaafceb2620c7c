// What a browser sees at GET /graphql: Apollo Sandbox in development; in production only a static
// page (no schema exploration).
import {
  ApolloServerPluginLandingPageLocalDefault,
  ApolloServerPluginLandingPageProductionDefault,
} from '@apollo/server/plugin/landingPage/default';

export const landingPagePlugin = (production: boolean) =>
  production
    ? ApolloServerPluginLandingPageProductionDefault({ footer: false })
    : ApolloServerPluginLandingPageLocalDefault({ embed: true, footer: false });

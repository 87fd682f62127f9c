// A NestJS service of the user's, as `nest new` lays it out and written from
// participant-sdk/README.md: compiled by `npm run build` (plain tsc, CommonJS), run by plain node.
import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module';

async function bootstrap() {
  const app = await NestFactory.create(AppModule, { logger: ['error', 'warn'] });
  await app.listen(Number(process.env.PORT ?? 3000), '127.0.0.1');
  console.log(`nest wallet listening on ${await app.getUrl()}`);
  // app.close() runs the shutdown hooks (the participant's, the database's); the process then ends by itself
  process.once('SIGTERM', () => void app.close());
}
bootstrap();

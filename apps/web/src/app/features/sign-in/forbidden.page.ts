import { ChangeDetectionStrategy, Component } from '@angular/core';
import { RouterLink } from '@angular/router';

@Component({
  selector: 'sn-forbidden',
  imports: [RouterLink],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `
    <section class="sn-page" data-testid="forbidden">
      <h1>Not allowed</h1>
      <p>Your role does not give access to this page. <a routerLink="/fleet">Back to the fleet</a>.</p>
    </section>
  `,
})
export default class ForbiddenPage {}

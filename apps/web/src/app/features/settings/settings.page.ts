import { ChangeDetectionStrategy, Component } from '@angular/core';

@Component({
  selector: 'sn-placeholder',
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: '<section class="sn-page"><h1>settings/settings</h1></section>',
})
export default class Page {}

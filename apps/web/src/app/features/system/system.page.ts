import { ChangeDetectionStrategy, Component } from '@angular/core';

@Component({
  selector: 'sn-placeholder',
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: '<section class="sn-page"><h1>system/system</h1></section>',
})
export default class Page {}

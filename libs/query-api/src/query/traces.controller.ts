import { Controller, Get, Inject, Param, Query, UsePipes } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { Roles } from '../common/roles.decorator.js';
import { apiValidationPipe } from '../common/api-validation.pipe.js';
import { SpanDto, SpansQueryDto, TraceQueryDto } from './traces.dto.js';
import { TracesService } from './traces.service.js';

@ApiTags('traces')
@ApiBearerAuth()
@Controller('api/traces')
@Roles('viewer')
@UsePipes(apiValidationPipe)
export class TracesController {
  constructor(@Inject(TracesService) private readonly traces: TracesService) {}

  @Get()
  @ApiOkResponse({ type: [SpanDto], description: 'Spans matching the filter, newest first.' })
  search(@Query() query: SpansQueryDto): Promise<SpanDto[]> {
    return this.traces.search(query);
  }

  @Get(':traceId')
  @ApiOkResponse({ type: [SpanDto], description: 'Every span of the trace, in start order.' })
  trace(@Param() params: TraceQueryDto): Promise<SpanDto[]> {
    return this.traces.trace(params);
  }
}

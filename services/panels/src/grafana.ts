// The catalogue as Grafana dashboards, built with Grafana's foundation SDK (its types are
// Grafana's dashboard model). `pnpm dashboards:build` writes them to dashboards/<uid>.json;
// grafana.spec.ts fails when the committed files are stale.
import type { Builder, Dataquery } from '@grafana/grafana-foundation-sdk/cog';
import * as common from '@grafana/grafana-foundation-sdk/common';
import * as dash from '@grafana/grafana-foundation-sdk/dashboard';
import * as barchart from '@grafana/grafana-foundation-sdk/barchart';
import * as statetimeline from '@grafana/grafana-foundation-sdk/statetimeline';
import * as table from '@grafana/grafana-foundation-sdk/table';
import * as timeseries from '@grafana/grafana-foundation-sdk/timeseries';
import * as trend from '@grafana/grafana-foundation-sdk/trend';
import * as xychart from '@grafana/grafana-foundation-sdk/xychart';
import { VARIABLES, type Axis, type Dashboard, type Panel, type Variable } from './catalogue.ts';

/** The provisioned data source (deploy/grafana/provisioning/datasources/grokstream.yaml). */
export const DATASOURCE: common.DataSourceRef = { type: 'grafana-clickhouse-datasource', uid: 'grokstream-clickhouse' };

/** The plugin's query formats (grafana-clickhouse-datasource v4, `Format`). */
const FORMAT = { timeseries: 0, table: 1 } as const;

/** A raw-SQL query of the ClickHouse plugin (v4 query model). */
interface ClickHouseQuery {
  refId?: string;
  hide?: boolean;
  datasource: common.DataSourceRef;
  editorType: 'sql';
  queryType: 'table' | 'timeseries';
  format: number;
  rawSql: string;
  _implementsDataqueryVariant(): void;
}

class ClickHouseQueryBuilder implements Builder<Dataquery> {
  private readonly q: ClickHouseQuery;
  constructor(sql: string, kind: 'table' | 'timeseries') {
    this.q = { refId: 'A', datasource: DATASOURCE, editorType: 'sql', queryType: kind, format: FORMAT[kind], rawSql: sql, _implementsDataqueryVariant() {} };
  }
  build(): ClickHouseQuery {
    return this.q;
  }
}

function variableBuilder(v: Variable, startsOnAll: boolean): Builder<dash.VariableModel> {
  switch (v.kind) {
    case 'constant':
      return new dash.ConstantVariableBuilder(v.name).label(v.label).value(v.default ?? '');
    case 'textbox':
      return new dash.TextBoxVariableBuilder(v.name).label(v.label).defaultValue(v.default ?? '').current({ text: v.default ?? '', value: v.default ?? '' });
    case 'custom': {
      const b = new dash.CustomVariableBuilder(v.name).label(v.label).values((v.options ?? []).join(','));
      const d = v.default ?? v.options?.[0] ?? '';
      return b.current({ text: d, value: d }).multi(v.multi ?? false);
    }
    case 'query': {
      const b = new dash.QueryVariableBuilder(v.name)
        .label(v.label)
        .datasource(DATASOURCE)
        .query(v.query!)
        .definition(v.query!)
        .refresh(dash.VariableRefresh.OnDashboardLoad)
        .multi(v.multi ?? false)
        .includeAll(v.includeAll ?? false);
      if (startsOnAll) return b.current({ text: 'All', value: '$__all' });
      return v.default === undefined ? b : b.current({ text: v.default, value: v.default });
    }
  }
}

function scale(axis: Axis): common.ScaleDistributionConfigBuilder {
  const s = new common.ScaleDistributionConfigBuilder().type(axis.scale === 'log' ? common.ScaleDistribution.Log : common.ScaleDistribution.Linear);
  return axis.scale === 'log' ? s.log(10) : s;
}

const legend = () =>
  new common.VizLegendOptionsBuilder().showLegend(true).displayMode(common.LegendDisplayMode.List).placement(common.LegendPlacement.Bottom);

const partition = (fields: string[]) => ({ id: 'partitionByValues', options: { fields, keepFields: false } });

/** One catalogue panel as the matching Grafana panel kind. */
function panelBuilder(p: Panel): Builder<dash.Panel> {
  const timeKind = p.visualization === 'timeseries' || p.visualization === 'state-timeline';
  const query = new ClickHouseQueryBuilder(p.sql, timeKind && p.visualization === 'timeseries' ? 'timeseries' : 'table');
  // Grafana's plugin turns long time series into one series per string column value itself;
  // the other kinds split rows into series with the partition-by-values transformation.
  const transformations = p.seriesBy && p.visualization !== 'timeseries' ? [partition(p.seriesBy)] : [];
  const y = p.y;
  switch (p.visualization) {
    case 'trend': {
      const b = new trend.PanelBuilder().legend(legend()).xField(p.x!.field).axisLabel(y?.label ?? '').showPoints(common.VisibilityMode.Never);
      if (y) b.scaleDistribution(scale(y)).unit(y.unit ?? 'none');
      if (y?.min !== undefined) b.min(y.min);
      if (y?.max !== undefined) b.max(y.max);
      return finish(b, p, query, transformations);
    }
    case 'timeseries': {
      const b = new timeseries.PanelBuilder().legend(legend()).axisLabel(y?.label ?? '').showPoints(common.VisibilityMode.Never);
      if (y) b.scaleDistribution(scale(y)).unit(y.unit ?? 'none');
      if (y?.min !== undefined) b.min(y.min);
      if (y?.max !== undefined) b.max(y.max);
      return finish(b, p, query, transformations);
    }
    case 'xychart': {
      const series = p.fields
        .filter((f) => f !== p.x!.field && f !== 'run_id' && !(p.seriesBy ?? []).includes(f))
        .map((f) =>
          new xychart.XYSeriesConfigBuilder()
            .name({ fixed: f })
            .x({ matcher: { id: 'byName', options: p.x!.field } })
            .y({ matcher: { id: 'byName', options: f } }),
        );
      const b = new xychart.PanelBuilder().legend(legend()).mapping(xychart.SeriesMapping.Manual).series(series).axisLabel(y?.label ?? '');
      if (y) b.unit(y.unit ?? 'none');
      return finish(b, p, query, transformations);
    }
    case 'state-timeline':
      return finish(new statetimeline.PanelBuilder().showValue(common.VisibilityMode.Auto), p, query, transformations);
    case 'barchart':
      return finish(new barchart.PanelBuilder().xField(p.fields[0]!), p, query, transformations);
    case 'table':
      return finish(new table.PanelBuilder(), p, query, transformations);
  }
}

interface CommonPanelBuilder<T> extends Builder<dash.Panel> {
  title(t: string): T;
  description(d: string): T;
  datasource(d: common.DataSourceRef): T;
  withTarget(t: Builder<Dataquery>): T;
  gridPos(g: dash.GridPos): T;
  transformations(t: dash.DataTransformerConfig[]): T;
  id(id: number): T;
}

// Positions are set by layout(); here only what every kind shares.
function finish<T extends CommonPanelBuilder<T>>(b: T, p: Panel, q: ClickHouseQueryBuilder, transformations: dash.DataTransformerConfig[]): T {
  return b.title(p.title).description(p.description).datasource(DATASOURCE).withTarget(q).transformations(transformations);
}

const PANEL_HEIGHT = 9;

/** A catalogue dashboard as Grafana's dashboard model. */
export function grafanaDashboard(d: Dashboard): dash.Dashboard {
  const b = new dash.DashboardBuilder(d.title)
    .uid(d.uid)
    .description(d.description)
    .tags(['grokstream'])
    .editable()
    .time({ from: 'now-24h', to: 'now' })
    .timezone('browser')
    .refresh('30s');
  for (const name of d.variables) {
    const v = VARIABLES[name];
    if (!v) throw new Error(`dashboard ${d.uid}: no variable ${name} in the catalogue`);
    b.withVariable(variableBuilder(v, (v.defaultAll ?? false) || (d.allByDefault?.includes(name) ?? false)));
  }
  for (const a of d.annotations) {
    b.annotation(
      new dash.AnnotationQueryBuilder()
        .name(a.name)
        .datasource(DATASOURCE)
        .enable(true)
        .iconColor(a.color)
        .target(new ClickHouseQueryBuilder(a.sql, 'table')),
    );
  }
  // Two columns of panels (24 wide in all); a panel of width 24 takes a row to itself.
  let x = 0;
  let y = 0;
  d.panels.forEach((p, i) => {
    const w = p.width ?? 12;
    if (x + w > 24) {
      x = 0;
      y += PANEL_HEIGHT;
    }
    const built = panelBuilder(p) as unknown as CommonPanelBuilder<unknown>;
    (built as CommonPanelBuilder<typeof built>).gridPos({ x, y, w, h: PANEL_HEIGHT }).id(i + 1);
    b.withPanel(built as unknown as Builder<dash.Panel>);
    x += w;
  });
  const model = b.build();
  // Hidden constant: SQL reads ${database}; a deployment with another database edits one value.
  for (const v of model.templating.list ?? []) {
    if (VARIABLES[v.name]?.hide) v.hide = dash.VariableHide.HideVariable;
  }
  return model;
}

/** File name and JSON text of every dashboard, as committed under dashboards/. */
export function dashboardFiles(dashboards: Dashboard[]): { file: string; json: string }[] {
  return dashboards.map((d) => ({ file: `${d.uid}.json`, json: `${JSON.stringify(grafanaDashboard(d), null, 2)}\n` }));
}

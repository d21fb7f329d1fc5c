export { DASHBOARDS, VARIABLES, PHASE_SPANS_SQL, allPanels, type Dashboard, type Panel, type Variable, type Annotation, type Axis, type Visualization } from './catalogue.ts';
export { expandSql, referencedVariables, MacroError, type ExpansionContext, type VariableValue } from './macros.ts';
export { seriesSql, widthSql, type SeriesOptions, type SeriesSource } from './series.ts';
export { resolveVariables, type Selection, type QueryRows } from './selection.ts';
export { grafanaDashboard, dashboardFiles, DATASOURCE } from './grafana.ts';
